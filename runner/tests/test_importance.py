"""Importance: angular distances equal a hand-rolled block-by-block computation (hooks see the
input of each block and of the final norm), removal and insertion drops equal the log-likelihood of
explicitly rebuilt smaller/larger models, zeroed inserts would be the identity (why we do not zero),
importance.json passes the TypeScript validator, and the CLI writes valid events."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import torch

from slayer_runner import importance as I
from slayer_runner import model as M
from slayer_runner.events import parse_event_line
from tests.tiny_models import hf_config, node_validate, random_ids, random_model, write_checkpoint

RUNNER = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rebuilt(model: M.CausalLM, order: list, extra: dict | None = None) -> M.CausalLM:
    """A new model whose block j is `order[j]` of the original (an int) or a given state dict."""
    cfg = dict(hf_config(layers=len(order)))
    new = M.CausalLM(M.ModelConfig.from_hf(cfg))
    sd = model.state_dict()
    out = {k: v for k, v in sd.items() if ".layers." not in k}
    for j, src in enumerate(order):
        if isinstance(src, int):
            for k, v in sd.items():
                if k.startswith(f"model.layers.{src}."):
                    out[k.replace(f"model.layers.{src}.", f"model.layers.{j}.")] = v
        else:
            out.update({f"model.layers.{j}.{k}": v for k, v in src.items()})
    M.load_state(new, out)
    return new.eval()


def mean_loglik(model: M.CausalLM, ids: torch.Tensor) -> float:
    return float(M.token_logprobs(model, ids).double().mean())


class Angular(unittest.TestCase):
    def test_hooks_give_the_block_by_block_angular_distance(self) -> None:
        m = random_model(seed=1, layers=5)
        ids = random_ids(6, 16, 300)
        res = I.measure(m, ids, metrics=("angular",), batch_size=4)
        with torch.no_grad():
            x = m.model.embed_tokens(ids)
            cos, sin = m.rope(16, x.device, x.dtype)
            xs = [x]
            for blk in m.blocks:
                x = blk(x, cos, sin)
                xs.append(x)
        for i in range(5):
            c = torch.nn.functional.cosine_similarity(xs[i], xs[i + 1], dim=-1).clamp(-1, 1)
            ang = torch.arccos(c) / math.pi
            self.assertAlmostEqual(res["angular_all"][i], float(ang.mean()), places=5)
            self.assertAlmostEqual(res["angular_last"][i], float(ang[:, -1].mean()), places=5)
            self.assertTrue(0 < res["angular_all"][i] < 1)
        self.assertAlmostEqual(res["baseline_loglik"], mean_loglik(m, ids), places=5)
        self.assertIsNone(res["removal_drop"])

    def test_an_identity_block_has_angular_distance_zero(self) -> None:
        m = random_model(seed=2, layers=3)
        with torch.no_grad():
            m.blocks[1].self_attn.o_proj.weight.zero_()
            m.blocks[1].mlp.down_proj.weight.zero_()
        res = I.measure(m, random_ids(2, 8, 300), metrics=("angular",))
        self.assertLess(res["angular_all"][1], 1e-3)  # arccos near 1 is ill-conditioned in float32
        self.assertGreater(res["angular_all"][0], 0.05)


class Drops(unittest.TestCase):
    def test_removal_and_insertion_drops_equal_rebuilt_models(self) -> None:
        m = random_model(seed=3, layers=4)
        with torch.no_grad():  # make the blocks matter: larger weights than the 0.02 default
            for p in m.blocks.parameters():
                if p.dim() == 2:
                    p.mul_(8)
        ids = random_ids(4, 16, 300)
        res = I.measure(m, ids, batch_size=3)
        base = mean_loglik(m, ids)
        sd = m.state_dict()
        for i in range(4):
            self.assertAlmostEqual(res["removal_drop"][i], base - mean_loglik(rebuilt(m, [j for j in range(4) if j != i]), ids), places=4)
            order = list(range(i + 1)) + [i] + list(range(i + 1, 4))
            self.assertAlmostEqual(res["insert_copy_drop"][i], base - mean_loglik(rebuilt(m, order), ids), places=4)
            nxt = i + 1 if i + 1 < 4 else i
            avg = {k[len(f"model.layers.{i}."):]: (v + sd[k.replace(f".{i}.", f".{nxt}.", 1)]) / 2
                   for k, v in sd.items() if k.startswith(f"model.layers.{i}.")}
            order = list(range(i + 1)) + [avg] + list(range(i + 1, 4))
            self.assertAlmostEqual(res["insert_average_drop"][i], base - mean_loglik(rebuilt(m, order), ids), places=4)
        self.assertGreater(max(abs(v) for v in res["removal_drop"]), 1e-3)
        self.assertEqual(res["insert_copy_drop"][3], res["insert_average_drop"][3])  # no block after the last

    def test_average_block_is_the_exact_mean_and_zeroed_insert_would_be_identity(self) -> None:
        m = random_model(seed=4, layers=3).to(torch.bfloat16)
        avg = I.average_block(m.blocks[0], m.blocks[1])
        for (n, p), q, r in zip(avg.named_parameters(), m.blocks[0].parameters(), m.blocks[1].parameters()):
            self.assertEqual(p.dtype, torch.bfloat16)
            torch.testing.assert_close(p, ((q.float() + r.float()) / 2).to(torch.bfloat16), rtol=0, atol=0, msg=n)
        m = m.float()
        ids = random_ids(2, 8, 300)
        zeroed = I.average_block(m.blocks[0], m.blocks[1])
        with torch.no_grad():
            zeroed.self_attn.o_proj.weight.zero_()
            zeroed.mlp.down_proj.weight.zero_()
        blocks = list(m.blocks)
        torch.testing.assert_close(m(ids, blocks[:1] + [zeroed] + blocks[1:]), m(ids), rtol=0, atol=0)


class File(unittest.TestCase):
    def test_cli_writes_importance_json_valid_for_typescript_and_valid_events(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            cfg = hf_config(layers=4, vocab=300)
            write_checkpoint(os.path.join(d, "m"), random_model(seed=5, layers=4, vocab=300), cfg)
            out, ev = os.path.join(d, "out", "importance.json"), os.path.join(d, "events.jsonl")
            p = subprocess.run([sys.executable, "-m", "slayer_runner", "importance", "--model", os.path.join(d, "m"),
                                "--output", out, "--events", ev, "--seq-len", "32", "--max-sequences", "6",
                                "--batch-size", "4"], cwd=RUNNER, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": RUNNER})
            self.assertEqual(p.returncode, 0, p.stderr)
            doc = json.loads(Path(out).read_text())
            self.assertEqual(node_validate("importance", out), "")
            self.assertEqual(doc["num_layers"], 4)
            self.assertEqual(doc["calibration"], {"source": I.SAMPLE_TEXT.as_posix(), "sequences": 6, "tokens": 192, "seq_len": 32})
            for k in ("removal_drop", "insert_copy_drop", "insert_average_drop", "angular_all", "angular_last"):
                self.assertEqual(len(doc[k]), 4)
            events = [parse_event_line(line) for line in Path(ev).read_text().splitlines()]
            self.assertEqual(node_validate("events", ev), "")
            self.assertEqual([e["metric"] for e in events if e["kind"] == "importance"],
                             ["angular_all", "angular_last", "removal_drop", "insert_copy_drop", "insert_average_drop"])
            prog = [e for e in events if e["kind"] == "progress"]
            self.assertEqual(prog[-1]["done"], prog[-1]["total"])
            self.assertEqual(prog[-1]["total"], (1 + 3 * 4) * 2)
            self.assertEqual([e["seq"] for e in events], list(range(len(events))))
            # a pre-tokenized calibration file (uint16) works the same way, in-process this time
            np_ids = random_ids(1, 5 * 16, 300, seed=9).numpy().astype("uint16").reshape(-1)
            np_ids.tofile(os.path.join(d, "cal.u16"))
            doc2 = I.run(os.path.join(d, "m"), os.path.join(d, "cal.u16"), os.path.join(d, "imp2.json"), seq_len=16,
                         max_sequences=100, metrics=("angular",))
            self.assertEqual(doc2["calibration"]["sequences"], 5)
            self.assertIsNone(doc2["removal_drop"])
            self.assertEqual(node_validate("importance", os.path.join(d, "imp2.json")), "")
            bad = dict(doc, angular_all=doc["angular_all"][:3])
            with open(out, "w") as f:
                json.dump(bad, f)
            self.assertIn("angular_all", node_validate("importance", out))  # the check can fail


if __name__ == "__main__":
    unittest.main()
