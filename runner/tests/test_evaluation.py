"""The eval phase against the real lm-evaluation-harness and transformers (both in the project venv).

A tiny Llama with a BPE tokenizer trained in the test; local harness tasks whose expected scores
the test computes itself from the model's own log-likelihoods and greedy continuations; perplexity
against transformers' own loss; the base-model cache proven by a second evaluation.
"""
from __future__ import annotations

import json
import math
import tempfile
import unittest
from pathlib import Path
from typing import Any, List

import torch

from slayer_runner.evaluation import (EvalError, Evaluator, parse_spec, perplexity, tokenize_windows,
                                      checkpoint_hash)
from slayer_runner.events import EventError, EventWriter, parse_event_line
from slayer_runner.run_config import validate_run_config
from slayer_runner.data import load_tokenizer

FIXTURES = Path(__file__).resolve().parents[2] / "contracts" / "fixtures" / "events"
CORPUS = ["the cat sat on the mat", "two plus two is four", "paris is in france", "the answer is four",
          "a dog ran in the park", "three plus one is four", "rome is in italy"]


def build_hf_model(out: Path, seed: int = 0) -> Any:
    """A random 2-block Llama and a byte-level BPE tokenizer of 300 tokens, saved as a HF directory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS * 10, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<unk>", "<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="</s>")
    fast.save_pretrained(out)
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      bos_token_id=1, eos_token_id=2, pad_token_id=2)
    model = LlamaForCausalLM(cfg).eval()
    model.save_pretrained(out)
    return model, fast


def continuation_loglik(model: Any, tok: Any, context: str, continuation: str) -> float:
    """log p(continuation | context), split as the harness splits it: the whole string's tokens
    after the context's tokens."""
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tok(context, add_special_tokens=False)["input_ids"]
    cont = whole[len(ctx):]
    ids = torch.tensor([whole])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), -1)
    return sum(float(logp[len(ctx) - 1 + i, t]) for i, t in enumerate(cont))


def greedy(model: Any, tok: Any, prompt: str, n: int) -> str:
    ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=2, eos_token_id=2)
    return tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True).split("\n")[0]


class EvalEventFixtures(unittest.TestCase):
    def test_shared_examples(self) -> None:
        def eval_lines(name: str) -> list[str]:
            return [ln for ln in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if '"kind":"eval"' in ln]
        good = eval_lines("valid.jsonl")
        self.assertEqual(len(good), 2)
        for ln in good:
            self.assertEqual(parse_event_line(ln)["kind"], "eval")
        bad = eval_lines("invalid.jsonl")
        self.assertEqual(len(bad), 10)
        for ln in bad:
            with self.subTest(line=ln), self.assertRaises(EventError):
                parse_event_line(ln)


class DoctorWithoutHarness(unittest.TestCase):
    def test_missing_lm_eval_is_a_clear_problem(self) -> None:
        """A real doctor process in which `import lm_eval` fails (sys.modules entry None), with a
        run that has harness tasks, refuses with the install hint; with perplexity only it is fine."""
        import os
        import subprocess
        import sys

        from tests.support import ROOT
        code = ("import sys, json; sys.modules['lm_eval'] = None; from slayer_runner.doctor import check; "
                "from pathlib import Path; r = check(None, json.loads(sys.argv[1]), Path('.'), 'cpu'); "
                "print(json.dumps([r.problems, r.facts.get('lm_eval', 'absent')]))")
        gsm8k = {"name": "gsm8k", "group": "domain", "shots": 5, "metric": None, "limit": None,
                 "chat_template": False, "config": None, "unsafe_code": False}
        for tasks, want in (([gsm8k], 1), ([], 0)):
            # A run.json as the runner reads it (the shared valid example, checked here like on a host).
            run = json.loads((ROOT / "contracts" / "fixtures" / "run-config" / "valid-tiny.json").read_text(encoding="utf-8"))
            run.update(phases=["doctor", "eval"], device="cpu",
                       eval={"tasks": tasks, "perplexity": [], "when": ["base"], "batch_size": 1, "seq_len": 2048,
                             "seed": 1234, "cache_dir": None})
            validate_run_config(run)
            r = subprocess.run([sys.executable, "-c", code, json.dumps(run)], capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "runner")}, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            problems, fact = json.loads(r.stdout.splitlines()[-1])
            self.assertIsNone(fact)
            self.assertEqual(len(problems), want)
            if want:
                self.assertIn("lm-evaluation-harness (`lm_eval`) is not importable", problems[0])
                self.assertIn("pip install --no-deps lm_eval", problems[0])


class EvalSpecTest(unittest.TestCase):
    def test_bad_specs_name_the_field(self) -> None:
        for bad, field in (({"tasks": [{"name": "x", "group": "both"}]}, "tasks[0].group"),
                           ({"tasks": [{"name": "x", "group": "domain", "shots": -1}]}, "tasks[0].shots"),
                           ({"perplexity": [{"name": "p", "group": "general", "files": []}]}, "perplexity[0].files"),
                           ({"when": ["yesterday"]}, "when")):
            with self.subTest(field=field), self.assertRaisesRegex(EvalError, field.replace("[", r"\[").replace("]", r"\]")):
                parse_spec(bad)


class EvaluationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = Path(cls.tmp.name)
        cls.model_dir = cls.root / "model"
        cls.model, cls.tok = build_hf_model(cls.model_dir)
        cls.tasks = cls.root / "tasks"
        cls.tasks.mkdir()
        cls.expected = cls._write_tasks()
        text = " ".join(CORPUS * 6)  # several 64-token windows and a shorter last one
        (cls.root / "heldout.txt").write_text(text, encoding="utf-8")
        (cls.root / "general.jsonl").write_text(
            "\n".join(json.dumps({"text": t}) for t in CORPUS[:3]) + "\n", encoding="utf-8")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.tmp.cleanup()

    @classmethod
    def _write_tasks(cls) -> dict[str, float]:
        """A multiple-choice and a generate-until task; half the gold answers are the model's own
        preference, half are not, so the expected accuracy is known and neither 0 nor 1."""
        m, tok = cls.model, cls.tok
        mc, right = [], 0
        for i, (q, choices) in enumerate([("the cat sat on the", ["mat", "park", "france"]),
                                          ("paris is in", ["france", "italy", "four"]),
                                          ("two plus two is", ["four", "three", "mat"]),
                                          ("rome is in", ["italy", "france", "park"]),
                                          ("a dog ran in the", ["park", "mat", "four"]),
                                          ("the answer is", ["four", "rome", "cat"])]):
            ll = [continuation_loglik(m, tok, q, " " + c) for c in choices]
            best = max(range(len(choices)), key=lambda k: ll[k])
            label = best if i % 2 == 0 else (best + 1) % len(choices)
            right += label == best
            mc.append({"q": q, "choices": choices, "label": label})
        gen, hits = [], 0
        for i, q in enumerate(["two plus two is", "the cat sat", "paris is", "rome"]):
            out = greedy(m, tok, q, 4)
            gold = out if i % 2 == 0 else out + "x"
            hits += gold == out
            gen.append({"q": q, "a": gold})
        for name, rows in (("mc", mc), ("gen", gen)):
            (cls.tasks / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        (cls.tasks / "mc.yaml").write_text(f"""task: tiny_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {cls.tasks / 'mc.jsonl'}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{q}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
""", encoding="utf-8")
        (cls.tasks / "gen.yaml").write_text(f"""task: tiny_gen
dataset_path: json
dataset_kwargs:
  data_files:
    test: {cls.tasks / 'gen.jsonl'}
test_split: test
output_type: generate_until
doc_to_text: "{{{{q}}}}"
doc_to_target: "{{{{a}}}}"
generation_kwargs:
  until: ["\\n"]
  max_gen_toks: 4
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 2.0
""", encoding="utf-8")
        return {"tiny_mc": right / len(mc), "tiny_gen": hits / len(gen)}

    def spec(self, cache: Path) -> dict[str, Any]:
        return {"tasks": [{"name": "tiny_mc", "group": "general", "config": str(self.tasks / "mc.yaml"), "shots": 0,
                           "metric": "acc"},
                          {"name": "tiny_gen", "group": "domain", "config": str(self.tasks / "gen.yaml"), "shots": 0}],
                "perplexity": [{"name": "heldout", "group": "domain", "files": [str(self.root / "heldout.txt")]}],
                "when": ["base"], "batch_size": 2, "seq_len": 64, "seed": 7, "cache_dir": str(cache)}

    def test_perplexity_is_transformers_loss_token_weighted(self) -> None:
        tok = load_tokenizer(str(self.model_dir), 300)
        windows = tokenize_windows([str(self.root / "heldout.txt")], tok, 300, 64)
        self.assertGreater(len(windows), 2)
        self.assertLess(len(windows[-1]), 64)  # a shorter last window is counted too
        res = perplexity(self.model, windows, batch_size=3)
        num, den = 0.0, 0
        with torch.no_grad():
            for w in windows:
                ids = torch.tensor([w])
                num += float(self.model(input_ids=ids, labels=ids).loss) * (len(w) - 1)
                den += len(w) - 1
        self.assertEqual(res["tokens"], den)
        self.assertAlmostEqual(res["loss"], num / den, places=5)
        self.assertAlmostEqual(res["perplexity"], math.exp(num / den), places=3)

    def test_harness_scores_and_base_cache(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            run = Path(d)
            spec = parse_spec(self.spec(run / "cache"))
            with EventWriter(run / "events.jsonl", "r-eval") as events:
                ev = Evaluator(spec, run / "out" / "eval", events, "cpu", base_dir=run)
                first = {s.task: s for s in ev.evaluate("base", self.model_dir, cached=True)}
                self.assertEqual(ev.evaluated, ["base"])
                # A second run (a new evaluator, as in a new run directory) reads the host cache.
                ev2 = Evaluator(spec, run / "out2" / "eval", events, "cpu", base_dir=run)
                second = {s.task: s for s in ev2.evaluate("base", self.model_dir, cached=True)}
                self.assertEqual(ev2.evaluated, [])
                # A trained model is never served from the cache.
                ev3 = Evaluator(spec, run / "out3" / "eval", events, "cpu", base_dir=run)
                ev3.evaluate("final", self.model_dir, cached=False)
                self.assertEqual(ev3.evaluated, ["final"])
            for task, want in self.expected.items():
                self.assertAlmostEqual(first[task].value, want, places=6, msg=task)
                self.assertTrue(0 < want < 1)
            mc = first["tiny_mc"]
            self.assertEqual(mc.metric, "acc,none")
            self.assertEqual((mc.settings["shots"], mc.settings["seed"], mc.settings["task_version"]), (0, 7, "1.0"))
            self.assertEqual(mc.settings["harness_version"], __import__("lm_eval").__version__)
            self.assertEqual(first["tiny_gen"].settings["task_version"], "2.0")
            for task, s in first.items():
                self.assertFalse(s.cached)
                self.assertTrue(second[task].cached)
                self.assertEqual(second[task].value, s.value)
            lines = (run / "events.jsonl").read_text(encoding="utf-8").splitlines()
            evs = [parse_event_line(ln) for ln in lines]
            scores = [e for e in evs if e["kind"] == "eval"]
            self.assertEqual(len(scores), 9)
            self.assertEqual([e["cached"] for e in scores], [False] * 3 + [True] * 3 + [False] * 3)
            ppl_progress = [e for e in evs if e["kind"] == "progress" and e["unit"] == "tokens"]
            self.assertTrue(ppl_progress and ppl_progress[-1]["done"] == ppl_progress[-1]["total"])
            doc = json.loads((run / "out" / "eval" / "base.json").read_text(encoding="utf-8"))
            self.assertEqual(doc["checkpoint_sha256"], checkpoint_hash(self.model_dir))
            self.assertEqual({s["task"] for s in doc["scores"]}, {"tiny_mc", "tiny_gen", "heldout"})

    def test_cache_key_follows_the_settings(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            run = Path(d)
            spec = self.spec(run / "cache")
            spec["tasks"] = spec["tasks"][:1]
            spec["perplexity"] = []
            ev = Evaluator(parse_spec(spec), run / "eval", None, "cpu", base_dir=run)
            ev.evaluate("base", self.model_dir, cached=True)
            spec["tasks"][0]["limit"] = 3  # another setting: another score
            ev2 = Evaluator(parse_spec(spec), run / "eval", None, "cpu", base_dir=run)
            s = ev2.evaluate("base", self.model_dir, cached=True)
            self.assertEqual(ev2.evaluated, ["base"])
            self.assertEqual((s[0].settings["limit"], s[0].cached), (3, False))


if __name__ == "__main__":
    unittest.main()


class PipelineEval(unittest.TestCase):
    def test_run_directory_with_an_eval_section(self) -> None:
        """`slayer_runner run` with phases surgery, train, eval on a tiny run: the base, the expanded
        model, the model after stage cpt and the final model are scored; the expanded model's
        perplexity equals the base's (zeroed projections: the same function); a second run
        directory on the same base takes the base's score from the host cache."""
        import subprocess
        import sys

        from tests.test_pipeline import make_run_dir
        with tempfile.TemporaryDirectory() as root:
            ev = {"tasks": [], "perplexity": [{"name": "sample-text", "group": "general", "files": ["sample"]}],
                  "when": ["base", "expanded", "stages", "final"], "seq_len": 32, "batch_size": 4, "seed": 1234,
                  "cache_dir": str(Path(root, "cache"))}
            docs = []
            for run_id in ("r1", "r2"):
                d = make_run_dir(root, run_id, 2, ["surgery", "train", "eval"])
                run = json.loads((d / "run.json").read_text())
                (d / "run.json").write_text(json.dumps({**run, "eval": ev}))
                r = subprocess.run([sys.executable, "-m", "slayer_runner", "run", "--run-dir", str(d)], cwd=d,
                                   env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parents[1]),
                                        "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
                self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
                evs = [parse_event_line(x) for x in (d / "events.jsonl").read_text().splitlines()]
                scores = {e["model"]: e for e in evs if e["kind"] == "eval"}
                self.assertEqual(list(scores), ["base", "expanded", "cpt", "final"])
                for label in scores:
                    self.assertTrue((d / "out" / "eval" / f"{label}.json").exists())
                self.assertTrue((d / "out" / "stages" / "cpt" / "config.json").exists())
                docs.append(scores)
            first, second = docs
            self.assertFalse(first["base"]["cached"])
            self.assertTrue(second["base"]["cached"])
            self.assertFalse(second["expanded"]["cached"])
            self.assertEqual(second["base"]["value"], first["base"]["value"])
            self.assertAlmostEqual(first["expanded"]["value"], first["base"]["value"], delta=1e-4 * first["base"]["value"])
            self.assertNotAlmostEqual(first["final"]["value"], first["base"]["value"], places=4)
