"""Surgery on tiny random checkpoints: init rules (copy, average in float32, zeroed projections,
updated final block), every plan of the spec table through the real compiler, renaming, dtypes,
shards, and the safety rules (source untouched, no partial output, refusal of an existing one)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Callable

import torch

from slayer_runner.checkpoint import INDEX_FILE, load_state_dict
from slayer_runner.modelconfig import read_config
from slayer_runner.events import EventWriter, parse_event_line
from slayer_runner.layermap import LayerMapError
from slayer_runner.surgery import SurgeryError, Terminated, apply_layer_map, remove_stale_temp_dirs, sigterm_raises
from tests.support import (ROOT, TempDirTest, block, cli_available, compile_plan, layer_map, measured, tiny, tree_hash,
                           zero_suffixes)

BLOCK_SUFFIXES = ["input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                  "self_attn.v_proj.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
                  "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"]
BIAS_SUFFIXES = ["self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"]


def blk(sd: dict[str, torch.Tensor], layer: int) -> dict[str, torch.Tensor]:
    p = f"model.layers.{layer}."
    return {k[len(p):]: v for k, v in sd.items() if k.startswith(p)}


def weighted(sd: dict[str, torch.Tensor], sources: list[tuple[int, float]], suffix: str) -> torch.Tensor:
    """The stated rule, written independently: Σ weight·θ in float32, cast back."""
    ts = [sd[f"model.layers.{layer}.{suffix}"] for layer, _ in sources]
    acc = sum((t.to(torch.float32) * w for t, (_, w) in zip(ts, sources)), torch.zeros(ts[0].shape))
    return acc.to(ts[0].dtype)


class Surgery(TempDirTest):
    def expand_one_each(self, dtype: str, qkv_bias: bool, shards: int | None = None) -> None:
        """6 blocks -> 0 1 [avg 1,2] 2 3 [copy 3] 4 5: checks every tensor of every output block."""
        src = tiny(self.dir / f"src-{dtype}", num_layers=6, dtype=dtype, qkv_bias=qkv_bias, shards=shards)
        z = zero_suffixes(src)
        blocks = [block(0, "kept", "kept", [(0, 1)]), block(1, "kept", "kept", [(1, 1)]),
                  block(2, "new", "average", [(1, 0.5), (2, 0.5)], z), block(3, "kept", "kept", [(2, 1)]),
                  block(4, "kept", "kept", [(3, 1)]), block(5, "new", "copy", [(3, 1)], z),
                  block(6, "kept", "kept", [(4, 1)]), block(7, "kept", "kept", [(5, 1)])]
        out = self.dir / f"out-{dtype}"
        summary = apply_layer_map(layer_map(src, blocks), src, out)
        base, res = load_state_dict(src), load_state_dict(out)
        suffixes = BLOCK_SUFFIXES + (BIAS_SUFFIXES if qkv_bias else [])
        self.assertEqual(set(res), {f"model.layers.{i}.{s}" for i in range(8) for s in suffixes}
                         | {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"})
        want_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype]
        self.assertTrue(all(t.dtype == want_dtype for t in res.values()))
        for out_i, src_i in ((0, 0), (1, 1), (3, 2), (4, 3), (6, 4), (7, 5)):
            for s, t in blk(res, out_i).items():
                self.assertTrue(torch.equal(t, base[f"model.layers.{src_i}.{s}"]), f"kept {out_i}.{s}")
        for s in suffixes:
            avg, copy = res[f"model.layers.2.{s}"], res[f"model.layers.5.{s}"]
            if s in z:
                self.assertTrue(torch.equal(avg, torch.zeros_like(avg)) and torch.equal(copy, torch.zeros_like(copy)), s)
                continue
            a, b = base[f"model.layers.1.{s}"], base[f"model.layers.2.{s}"]
            mean = ((a.to(torch.float32) + b.to(torch.float32)) / 2).to(a.dtype)
            self.assertTrue(torch.equal(avg, mean), f"average {s} is the exact float32 mean")
            self.assertFalse(torch.equal(avg, a), s)
            self.assertTrue(torch.equal(copy, base[f"model.layers.3.{s}"]), f"copy {s}")
        for k in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"):
            self.assertTrue(torch.equal(res[k], base[k]), k)
        cfg = read_config(out)
        self.assertEqual(cfg["num_hidden_layers"], 8)
        self.assertEqual(cfg["slayer"]["base_num_layers"], 6)
        self.assertEqual([b["init"] for b in cfg["slayer"]["blocks"]][2], "average")
        self.assertEqual({k: v for k, v in cfg.items() if k not in ("num_hidden_layers", "slayer")},
                         {k: v for k, v in read_config(src).items() if k != "num_hidden_layers"})
        self.assertEqual(summary["zeroed_tensors"], 2 * len(z))
        self.assertTrue((out / "slayer_tokenizer.json").exists() and (out / "generation_config.json").exists())

    def test_init_rules_fp32_llama(self) -> None:
        self.expand_one_each("fp32", qkv_bias=False)

    def test_init_rules_bf16_qwen2_biases_sharded(self) -> None:
        self.expand_one_each("bf16", qkv_bias=True, shards=3)

    def test_init_rules_fp16(self) -> None:
        self.expand_one_each("fp16", qkv_bias=False)

    def test_biases_of_output_projections_are_zeroed_too(self) -> None:
        why = cli_available()
        if why:
            self.skipTest(why)
        src = tiny(self.dir / "src", num_layers=4, attention_bias=True, mlp_bias=True, dtype="bf16")
        lm = compile_plan(src, "(2+1)x2◇")
        new = [b for b in lm["blocks"] if b["role"] == "new"]
        self.assertEqual(sorted(new[0]["zero"]), ["mlp.down_proj.bias", "mlp.down_proj.weight",
                                                  "self_attn.o_proj.bias", "self_attn.o_proj.weight"])
        out = self.dir / "out"
        apply_layer_map(lm, src, out)
        base, res = load_state_dict(src), load_state_dict(out)
        i = new[0]["index"]
        for s in ("self_attn.o_proj.bias", "mlp.down_proj.bias", "self_attn.o_proj.weight", "mlp.down_proj.weight"):
            self.assertTrue(torch.equal(res[f"model.layers.{i}.{s}"], torch.zeros_like(base[f"model.layers.0.{s}"])), s)
        for s in ("self_attn.q_proj.bias", "mlp.gate_proj.bias", "mlp.up_proj.bias"):
            mean = ((base[f"model.layers.1.{s}"].float() + base[f"model.layers.2.{s}"].float()) / 2).to(torch.bfloat16)
            self.assertTrue(torch.equal(res[f"model.layers.{i}.{s}"], mean), s)

    def test_updated_final_block_is_the_stated_mean(self) -> None:
        src = tiny(self.dir / "src", num_layers=6, dtype="fp32")
        third = 1 / 3
        blocks = [block(i, "kept", "kept", [(i, 1)]) for i in range(3)]
        blocks.append(block(3, "final", "final-average", [(3, third), (4, third), (5, third)]))
        out = self.dir / "out"
        apply_layer_map(layer_map(src, blocks, deleted=[4, 5]), src, out)
        base, res = load_state_dict(src), load_state_dict(out)
        self.assertEqual(len({k for k in res if k.startswith("model.layers.")}), 4 * 9)
        for s in BLOCK_SUFFIXES:
            got = res[f"model.layers.3.{s}"]
            self.assertTrue(torch.equal(got, weighted(base, [(3, third), (4, third), (5, third)], s)), s)
            arith = (base[f"model.layers.3.{s}"] + base[f"model.layers.4.{s}"] + base[f"model.layers.5.{s}"]) / 3
            torch.testing.assert_close(got, arith, rtol=1e-6, atol=1e-7)
        self.assertFalse(any(k.startswith(("model.layers.4.", "model.layers.5.")) for k in res))
        # final-average-deleted and final-keep
        blocks[3] = block(3, "final", "final-average-deleted", [(4, 0.5), (5, 0.5)])
        apply_layer_map(layer_map(src, blocks, deleted=[4, 5]), src, out, overwrite=True)
        res = load_state_dict(out)
        for s in BLOCK_SUFFIXES:
            self.assertTrue(torch.equal(res[f"model.layers.3.{s}"], (base[f"model.layers.4.{s}"] + base[f"model.layers.5.{s}"]) / 2))

    def test_sharded_output_round_trips(self) -> None:
        src = tiny(self.dir / "src", num_layers=4, dtype="bf16", shards=2)
        blocks = [block(i, "kept", "kept", [(i, 1)]) for i in range(4)]
        out = self.dir / "out"
        summary = apply_layer_map(layer_map(src, blocks), src, out, max_shard_bytes=60_000)
        self.assertGreater(summary["shards"], 2)
        index = json.loads((out / INDEX_FILE).read_text())
        self.assertEqual(list(index["weight_map"]), sorted(index["weight_map"]))
        base, res = load_state_dict(src), load_state_dict(out)
        self.assertEqual(index["metadata"]["total_size"], sum(t.numel() * 2 for t in res.values()))
        self.assertEqual(set(base), set(res))
        self.assertTrue(all(torch.equal(base[k], res[k]) for k in base))
        # ... and back into one file (without waiting for the disk: same bytes)
        again = self.dir / "again"
        apply_layer_map(layer_map(out, blocks), out, again, fsync=False)
        self.assertFalse((again / INDEX_FILE).exists())
        self.assertTrue(all(torch.equal(base[k], v) for k, v in load_state_dict(again).items()))

    def test_source_untouched_and_existing_output_refused(self) -> None:
        src = tiny(self.dir / "src", num_layers=4, shards=2)
        before = tree_hash(src)
        blocks = [block(0, "kept", "kept", [(0, 1)]), block(1, "new", "copy", [(0, 1)], zero_suffixes(src))] + \
                 [block(i + 1, "kept", "kept", [(i, 1)]) for i in range(1, 4)]
        lm = layer_map(src, blocks)
        out = self.dir / "out"
        out.mkdir()
        (out / "precious.txt").write_text("keep me")
        with self.assertRaisesRegex(SurgeryError, "already exists"):
            apply_layer_map(lm, src, out)
        self.assertEqual((out / "precious.txt").read_text(), "keep me")
        # --overwrite replaces only a checkpoint (issue 14 case 9); --force replaces any directory.
        with self.assertRaisesRegex(SurgeryError, "is not a checkpoint directory.*pass --force"):
            apply_layer_map(lm, src, out, overwrite=True)
        self.assertEqual((out / "precious.txt").read_text(), "keep me")
        apply_layer_map(lm, src, out, force=True)
        self.assertFalse((out / "precious.txt").exists())
        self.assertEqual(read_config(out)["num_hidden_layers"], 5)
        apply_layer_map(lm, src, out, overwrite=True)  # a checkpoint: replaced
        self.assertEqual(read_config(out)["num_hidden_layers"], 5)
        with self.assertRaisesRegex(SurgeryError, "outside the source"):
            apply_layer_map(lm, src, src, overwrite=True)
        with self.assertRaisesRegex(SurgeryError, "outside the source"):
            apply_layer_map(lm, src, src / "sub")
        self.assertEqual(tree_hash(src), before)
        self.assertEqual([p.name for p in self.dir.iterdir() if p.name.startswith(".")], [])

    def surgery_interrupted_midway(self, interrupt: Callable[[], None]) -> None:
        """A 3-shard surgery whose event writer calls ``interrupt`` on its first log, which comes
        right after the first shard was written."""
        src = tiny(self.dir / "src", num_layers=6, shards=3)
        blocks = [block(i, "kept", "kept", [(i, 1)]) for i in range(6)]

        class InterruptingEvents(EventWriter):
            def log(self, msg: str, level: str = "info") -> None:
                super().log(msg, level)
                interrupt()

        ev = InterruptingEvents(self.dir / "events.jsonl", "r", enabled=True)
        try:
            apply_layer_map(layer_map(src, blocks), src, self.dir / "out", events=ev, max_shard_bytes=50_000)
        finally:
            ev.close()

    def assert_no_partial_output(self) -> None:
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["events.jsonl", "src"])

    def test_failure_midway_leaves_no_partial_output(self) -> None:
        def disk_full() -> None:
            raise OSError("disk full (injected)")

        with self.assertRaisesRegex(OSError, "injected"):
            self.surgery_interrupted_midway(disk_full)
        self.assert_no_partial_output()

    def test_sigterm_midway_leaves_no_partial_output(self) -> None:
        # `slayer cancel` arriving right after the first shard was written.
        with self.assertRaises(Terminated), sigterm_raises():
            self.surgery_interrupted_midway(lambda: os.kill(os.getpid(), signal.SIGTERM))
        self.assert_no_partial_output()
        self.assertIs(signal.getsignal(signal.SIGTERM), signal.SIG_DFL)

    def test_sigkill_midway_leaves_no_output_and_the_next_run_cleans_up(self) -> None:
        src = tiny(self.dir / "src", num_layers=6, shards=3)
        lm = layer_map(src, [block(i, "kept", "kept", [(i, 1)]) for i in range(6)])
        (self.dir / "map.json").write_text(json.dumps(lm))
        out = self.dir / "out"
        # A real process killed outright (no handler runs) right after its first shard was written.
        child = (
            "import json, os, signal, sys\n"
            "from pathlib import Path\n"
            "from slayer_runner.events import EventWriter\n"
            "from slayer_runner.surgery import apply_layer_map\n"
            "class KillAfterFirstShard(EventWriter):\n"
            "    def log(self, msg, level='info'):\n"
            "        super().log(msg, level)\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "lm = json.loads(Path(sys.argv[1]).read_text())\n"
            "apply_layer_map(lm, Path(sys.argv[2]), Path(sys.argv[3]),\n"
            "                KillAfterFirstShard(sys.argv[4], 'r', enabled=True), max_shard_bytes=50_000)\n")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
        r = subprocess.run([sys.executable, "-c", child, str(self.dir / "map.json"), str(src), str(out),
                            str(self.dir / "events.jsonl")], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, -signal.SIGKILL, r.stderr)
        self.assertFalse(out.exists())
        leftovers = [p for p in self.dir.iterdir() if p.name.startswith(".out.slayer-tmp-")]
        self.assertEqual(len(leftovers), 1)
        self.assertTrue(any(leftovers[0].glob("model-00001-of-*.safetensors")), "killed after the first shard")
        apply_layer_map(lm, src, out, max_shard_bytes=50_000)
        self.assertEqual([p.name for p in self.dir.iterdir() if p.name.startswith(".")], [])
        self.assertEqual(set(load_state_dict(out)), set(load_state_dict(src)))

    def test_leftovers_of_a_killed_surgery_are_removed(self) -> None:
        dead = subprocess.Popen(["true"])
        dead.wait()
        out = self.dir / "out"
        stale = self.dir / f".out.slayer-tmp-{dead.pid}-0123abcd"
        live = self.dir / f".out.slayer-tmp-{os.getpid()}-0123abcd"
        stale.mkdir()
        live.mkdir()
        self.assertEqual(remove_stale_temp_dirs(out), [stale])
        self.assertTrue(live.exists())

    def test_mismatched_plan_and_checkpoint(self) -> None:
        src = tiny(self.dir / "src", num_layers=4)
        other = tiny(self.dir / "other", num_layers=5)
        lm = layer_map(src, [block(i, "kept", "kept", [(i, 1)]) for i in range(4)])
        with self.assertRaisesRegex(SurgeryError, "plan is for a 4-block model.*num_hidden_layers = 5"):
            apply_layer_map(lm, other, self.dir / "out")
        bad = layer_map(src, [block(0, "new", "copy", [(0, 1)], ["self_attn.o_proj.bias"])] +
                        [block(i + 1, "kept", "kept", [(i, 1)]) for i in range(4)])
        with self.assertRaisesRegex(SurgeryError, "cannot zero.*o_proj.bias"):
            apply_layer_map(bad, src, self.dir / "out")
        with self.assertRaisesRegex(LayerMapError, "version"):
            apply_layer_map({**lm, "version": 2}, src, self.dir / "out")
        self.assertFalse((self.dir / "out").exists())

    def test_cli_process_events_and_exit_codes(self) -> None:
        src = tiny(self.dir / "src", num_layers=4, dtype="bf16")
        lm_path = self.dir / "map.json"
        blocks = [block(0, "kept", "kept", [(0, 1)]), block(1, "kept", "kept", [(1, 1)]),
                  block(2, "new", "average", [(1, 0.5), (2, 0.5)], zero_suffixes(src)),
                  block(3, "kept", "kept", [(2, 1)]), block(4, "kept", "kept", [(3, 1)])]
        lm_path.write_text(json.dumps(layer_map(src, blocks)))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
        ev = self.dir / "events.jsonl"
        cmd = [sys.executable, "-m", "slayer_runner", "surgery", "--layer-map", str(lm_path), "--source", str(src),
               "--output", str(self.dir / "out"), "--events", str(ev), "--run-id", "r1", "--max-shard-size", "100KB"]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        events = [parse_event_line(ln) for ln in ev.read_text().splitlines()]
        self.assertEqual([e["seq"] for e in events], list(range(len(events))))
        kinds = [e["kind"] for e in events]
        self.assertEqual((kinds[0], kinds[-1]), ("phase", "done"))
        self.assertIn("progress", kinds)
        self.assertTrue(any(e["kind"] == "log" and e["msg"].startswith("wrote model-00001-of-") for e in events))
        self.assertEqual([(e["name"], e["path"]) for e in events if e["kind"] == "artifact"], [("checkpoint", "out")])
        last_progress = [e for e in events if e["kind"] == "progress"][-1]
        self.assertEqual((last_progress["done"], last_progress["eta_s"]), (last_progress["total"], 0.0))
        r2 = subprocess.run(cmd, env=env, capture_output=True, text=True)
        self.assertEqual(r2.returncode, 1)
        self.assertIn("already exists and is not empty (pass --overwrite", r2.stderr)
        events = [parse_event_line(ln) for ln in ev.read_text().splitlines()]
        self.assertEqual([e["seq"] for e in events], list(range(len(events))))  # continued, not restarted
        self.assertEqual((events[-2]["kind"], events[-1]["status"]), ("error", "failed"))


def peak_rss(cmd: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(measured(cmd, Path(tmp) / "rss"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
        if r.returncode != 0:
            raise AssertionError(r.stderr)
        return int((Path(tmp) / "rss").read_text())


class OutOfCore(unittest.TestCase):
    def test_memory_above_the_import_floor_is_less_than_one_tensor(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            d_ = Path(d)
            src = tiny(d_ / "src", num_layers=2, hidden_size=1024, intermediate_size=2048, num_heads=8,
                       num_kv_heads=2, vocab_size=8192, dtype="fp32")
            blocks = [block(0, "kept", "kept", [(0, 1)]),
                      block(1, "new", "average", [(0, 0.5), (1, 0.5)], ["self_attn.o_proj.weight"]),
                      block(2, "final", "final-keep", [(1, 1)])]
            (d_ / "map.json").write_text(json.dumps(layer_map(src, blocks)))
            floor = peak_rss([sys.executable, "-c", "import slayer_runner.surgery"])
            peak = peak_rss([sys.executable, "-m", "slayer_runner", "surgery", "--layer-map", str(d_ / "map.json"),
                             "--source", str(src), "--output", str(d_ / "out")])
            largest = 8192 * 1024 * 4
            checkpoint = (src / "model.safetensors").stat().st_size
            self.assertGreater(checkpoint, 4 * largest)
            # holding one tensor (let alone a shard or the model) would cost >= 32 MB above the floor
            self.assertLess(peak - floor, largest, f"peak {peak}, import floor {floor}")
            self.assertTrue(torch.equal(load_state_dict(d_ / "out")["model.layers.2.mlp.up_proj.weight"],
                                        load_state_dict(src)["model.layers.1.mlp.up_proj.weight"]))


# The spec's table (docs/plan-language.md), L = 32: plan -> (blocks, trainable output blocks).
SPEC_TABLE: list[tuple[str, int, list[int]]] = [
    ("(4+1)x8", 40, list(range(4, 40, 5))),
    ("(2+1)x3 (4+1)x3 (7+1)x2", 40, [2, 5, 8, 13, 18, 23, 31, 39]),
    ("16 (2+1)x8", 40, list(range(18, 40, 3))),
    ("(2+1)x8 | 16◇", 40, list(range(2, 24, 3))),
    ("(2+1)x6 | 17 | 1◇", 36, list(range(2, 18, 3)) + [35]),
    ("(2+1)x8 | 13 | 1◇", 38, list(range(2, 24, 3)) + [37]),
    ("(2+1)x8 | 12 | 1◇", 37, list(range(2, 24, 3)) + [36]),
    ("(2+1)x8 | 11 | 1◇", 36, list(range(2, 24, 3)) + [35]),
]


class SpecTable(unittest.TestCase):
    """Every plan of the table, compiled by the real compiler, applied to a 32-block checkpoint; each
    output block is checked against the base blocks the notation says it comes from."""

    @classmethod
    def setUpClass(cls) -> None:
        why = cli_available()
        if why:
            raise unittest.SkipTest(why)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.src = tiny(Path(cls.tmp.name) / "src", num_layers=32, hidden_size=32, intermediate_size=48,
                       num_heads=4, num_kv_heads=2, vocab_size=256, dtype="bf16", shards=2)
        cls.base = load_state_dict(cls.src)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    def check_plan(self, expand: str, n_blocks: int, trainable: list[int]) -> None:
        lm = compile_plan(self.src, expand)
        out = Path(self.tmp.name) / "out"
        apply_layer_map(lm, self.src, out, overwrite=True)
        res = load_state_dict(out)
        self.assertEqual(read_config(out)["num_hidden_layers"], n_blocks)
        self.assertEqual({k for k in res if k.startswith("model.layers.")},
                         {f"model.layers.{i}.{s}" for i in range(n_blocks) for s in BLOCK_SUFFIXES})
        self.assertEqual([b["index"] for b in lm["blocks"] if b["trainable"]], trainable)
        # Walk the output: kept blocks are the originals in order; a new block after original i is
        # a copy of i, or the mean of i and i+1; the final block is the mean of itself and the deleted.
        deleted = 32 - sum(1 for b in lm["blocks"] if b["role"] == "kept") - (1 if lm["blocks"][-1]["role"] == "final" else 0)
        self.assertEqual(lm["deleted"], list(range(32 - deleted, 32)))
        last_original = -1
        for b in lm["blocks"]:
            i = b["index"]
            got = blk(res, i)
            if b["role"] == "kept":
                last_original += 1
                want = [(last_original, 1.0)]
                zero: list[str] = []
            elif b["role"] == "new":
                nxt = last_original + 1
                if b["init"] == "average" and nxt < 32 and nxt not in lm["deleted"]:
                    want = [(last_original, 0.5), (nxt, 0.5)]
                else:
                    self.assertEqual(b["init"], "copy", f"{expand}: block {i}")
                    want = [(last_original, 1.0)]
                zero = ["self_attn.o_proj.weight", "mlp.down_proj.weight"]
            else:
                last_original += 1
                group = [last_original] + lm["deleted"]
                want = [(layer, 1 / len(group)) for layer in group]
                zero = []
                self.assertEqual(i, n_blocks - 1)
            self.assertEqual(sorted(b["zero"]), sorted(zero), f"{expand}: block {i}")
            self.assertEqual([(s["layer"], round(s["weight"], 9)) for s in b["sources"]],
                             [(layer, round(w, 9)) for layer, w in want], f"{expand}: block {i}")
            for s in BLOCK_SUFFIXES:
                expected = torch.zeros_like(got[s]) if s in zero else weighted(self.base, want, s)
                self.assertTrue(torch.equal(got[s], expected), f"{expand}: block {i} {s}")
        self.assertEqual(last_original, 31 - deleted)

    def test_spec_table(self) -> None:
        for expand, n, trainable in SPEC_TABLE:
            with self.subTest(plan=expand):
                self.check_plan(expand, n, trainable)


if __name__ == "__main__":
    unittest.main()
