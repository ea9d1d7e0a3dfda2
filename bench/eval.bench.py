"""Eval phase overhead: held-out perplexity tokens/s through the runner (`perplexity()`: windows,
batches, float32 cross-entropy, progress events written to a real events.jsonl) vs a plain forward
pass over the same windows (no loss, no events), on a tiny Llama (4 blocks, hidden 128) with the
runner tests' BPE tokenizer. Alternating A/B rounds so machine load affects both alike; reports
median tokens/s per setting and the ratio (1.0 = no overhead).

Run: npm run bench -- eval   (or PYTHONPATH=runner .venv/bin/python bench/eval.bench.py)
Env: SLAYER_BENCH_ROUNDS (default 5).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runner"))

import torch  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from slayer_runner.evaluation import perplexity, predicted_tokens  # noqa: E402
from slayer_runner.events import EventWriter, Progress  # noqa: E402

ROUNDS = int(__import__("os").environ.get("SLAYER_BENCH_ROUNDS", "5"))
SEQ, BATCH, WINDOWS = 256, 8, 64


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cfg = LlamaConfig(vocab_size=300, hidden_size=128, intermediate_size=344, num_hidden_layers=4, num_attention_heads=4,
                      num_key_value_heads=2, max_position_embeddings=SEQ)
    model = LlamaForCausalLM(cfg).eval()
    g = torch.Generator().manual_seed(1)
    windows = torch.randint(0, 300, (WINDOWS, SEQ), generator=g).tolist()
    tokens = predicted_tokens(windows)

    def plain() -> float:
        t = time.perf_counter()
        with torch.no_grad():
            for i in range(0, WINDOWS, BATCH):
                model(input_ids=torch.tensor(windows[i:i + BATCH]))
        return tokens / (time.perf_counter() - t)

    def runner(events: EventWriter) -> float:
        t = time.perf_counter()
        perplexity(model, windows, BATCH, Progress(events, "eval", tokens, "tokens"))
        return tokens / (time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as d, EventWriter(Path(d) / "events.jsonl", "bench") as events:
        plain(), runner(events)  # warm-up
        a, b = [], []
        for _ in range(ROUNDS):
            a.append(plain())
            b.append(runner(events))
    pa, pb = statistics.median(a), statistics.median(b)
    print(f"eval perplexity: {WINDOWS} windows x {SEQ} tokens, batch {BATCH}, 4 blocks hidden 128, 1 thread, {ROUNDS} rounds")
    print(f"  plain forward   {pa:12,.0f} tokens/s (median)")
    print(f"  eval perplexity {pb:12,.0f} tokens/s (median)")
    print(f"  ratio           {pb / pa:.3f} (eval / plain; 1.0 = no overhead)")


if __name__ == "__main__":
    main()
