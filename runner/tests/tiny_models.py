"""Tiny Llama-family configs and random models shared by the runner's model/training tests."""
from __future__ import annotations

from typing import Any, Dict

import torch

from slayer_runner.model import CausalLM, ModelConfig
from tests.support import ROOT, compile_plan_text


def hf_config(layers: int = 4, hidden: int = 64, heads: int = 4, kv_heads: int = 2, vocab: int = 300,
              inter: int = 128, model_type: str = "llama", tie: bool = False, **extra: Any) -> Dict[str, Any]:
    cfg: Dict[str, Any] = {
        "architectures": ["Qwen2ForCausalLM" if model_type == "qwen2" else "LlamaForCausalLM"],
        "model_type": model_type, "num_hidden_layers": layers, "hidden_size": hidden,
        "intermediate_size": inter, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "vocab_size": vocab, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "max_position_embeddings": 256,
        "tie_word_embeddings": tie, "hidden_act": "silu", "torch_dtype": "float32",
    }
    cfg.update(extra)
    return cfg


def random_model(seed: int = 0, **kw: Any) -> CausalLM:
    model = CausalLM(ModelConfig.from_hf(hf_config(**kw)))
    model.init_weights(seed)
    return model.eval()


def random_ids(batch: int, length: int, vocab: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, vocab, (batch, length), generator=torch.Generator().manual_seed(seed))


def write_checkpoint(directory: str, model: CausalLM, config: Dict[str, Any]) -> str:
    """Writes config.json + model.safetensors of `model` (its HF tensor names) into `directory`."""
    import json
    import os

    from slayer_runner.model import tensor_names
    from slayer_runner.safetensors_io import save_file

    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    sd = model.state_dict()
    save_file({n: sd[n].contiguous() for n in tensor_names(model)}, os.path.join(directory, "model.safetensors"),
              {"format": "pt"})
    return directory


def node_validate(kind: str, path: str) -> str:
    """Runs the TypeScript validator (src/protocol) on a JSON/JSONL file; returns '' or the error.

    kind: 'importance' (validateImportanceFile on a JSON file) or 'events' (parseEventLine per line).
    """
    import subprocess

    script = {
        "importance": "validateImportanceFile(JSON.parse(fs.readFileSync(process.argv[1], 'utf8')));",
        "events": "for (const l of fs.readFileSync(process.argv[1], 'utf8').split('\\n')) if (l) parseEventLine(l);",
    }[kind]
    script = ("const {validateImportanceFile, parseEventLine} = require('./src/protocol/runnerEvents.ts');"
              "const fs = require('node:fs');" + script)
    p = subprocess.run(["node", "--import", "tsx", "-e", script, path], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    if p.returncode == 0:
        return ""
    errors = [ln for ln in p.stderr.splitlines() if "Error" in ln]
    return (errors or p.stderr.strip().splitlines() or ["node failed"])[-1]


def expanded_model(directory: str, plan_text: str, spec: Dict[str, Any]) -> tuple[Dict[str, Any], str]:
    """make-tiny base (spec) → compiled plan → surgery. Returns (layer map, expanded dir)."""
    import json
    import os

    from slayer_runner.surgery import apply_layer_map
    from slayer_runner.tiny import make_tiny

    make_tiny(spec, os.path.join(directory, "base"))
    lm = compile_plan_text(plan_text, directory)
    with open(os.path.join(directory, "layermap.json"), "w", encoding="utf-8") as f:
        json.dump(lm, f)
    apply_layer_map(lm, os.path.join(directory, "base"), os.path.join(directory, "expanded"))
    return lm, os.path.join(directory, "expanded")


TORCHRUN_FLAKE = "RendezvousConnectionError"


def torchrun_command(nproc: int, args: list) -> list:
    import sys

    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *args]


def torchrun(nproc: int, args: list, on_retry: Any = None, **kw: Any) -> "subprocess.CompletedProcess[str]":
    """`python -m torch.distributed.run --standalone --nproc_per_node=N ARGS`, run to the end.

    Retried once when torchrun's own agent loses its rendezvous store (seen on this machine at
    load > 10: the agent's poll of the c10d store gets a broken pipe) — a launcher failure, not
    the runner's.
    """
    import subprocess

    cmd = torchrun_command(nproc, args)
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0 and TORCHRUN_FLAKE in p.stderr + p.stdout:
        if on_retry is not None:
            on_retry()  # start from clean outputs
        p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return p
