"""Training and calibration data: token files, raw text, SFT prompt/response pairs.

Formats (see docs/training.md):
- pre-tokenized token files, always: raw little-endian `uint16` (`.u16`, `.uint16`, `.bin`) or
  `uint32` (`.u32`, `.uint32`; `.bin` too when the vocabulary exceeds 65,536), or `.npy`; memory-mapped;
- raw text (`.txt`, `.md`, anything else) and JSONL with a `text` field: tokenized on the machine
  with the checkpoint's tokenizer through `tokenizers`/`transformers` when importable, otherwise with
  the built-in byte tokenizer (UTF-8 bytes are tokens 0–255, 257 ends a document when the
  vocabulary has room): it needs a vocabulary of at least 256, which the tiny demo models have;
- SFT JSONL: `{"prompt": ..., "response": ...}` (or `instruction`/`output`, or pre-tokenized
  `prompt_ids`/`response_ids`) — one example per sequence, the loss masked on the prompt.

Every stream is deterministic from its seed and resumable from `state_dict()`: a training run
restored from a checkpoint reads exactly the sequences the uninterrupted run would have read.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

import numpy as np
import torch

IGNORE = -100  # label of positions that carry no loss (prompt, padding)
ASSETS = Path(__file__).resolve().parent / "assets"
SAMPLE_TEXT = ASSETS / "sample.txt"
SAMPLE_NAMES = ("sample", "builtin:sample")


class DataError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# Tokenizers

class Tokenizer(Protocol):
    name: str
    eos_id: Optional[int]

    def encode(self, text: str) -> List[int]: ...


class ByteTokenizer:
    """UTF-8 bytes as tokens 0–255; 257 ends a document when the vocabulary has room for it
    (256 is BOS), as in the tiny checkpoints' slayer_tokenizer.json (see tiny.py)."""

    name = "bytes"

    def __init__(self, vocab_size: int, eos_id: Optional[int] = -1) -> None:
        if vocab_size < 256:
            raise DataError(f"the byte tokenizer needs a vocabulary of at least 256 (the model has {vocab_size}); "
                            "install `tokenizers` or give pre-tokenized data")
        self.eos_id: Optional[int] = (257 if vocab_size > 257 else None) if eos_id == -1 else eos_id

    def encode(self, text: str) -> List[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: Sequence[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")


class LibraryTokenizer:
    """The checkpoint's own tokenizer through `tokenizers` (tokenizer.json) or `transformers`."""

    def __init__(self, encode: Any, eos_id: Optional[int], name: str) -> None:
        self._encode = encode
        self.eos_id = eos_id
        self.name = name

    def encode(self, text: str) -> List[int]:
        return list(self._encode(text))


def load_tokenizer(model_dir: Optional[str], vocab_size: int) -> Tokenizer:
    if model_dir:
        desc = os.path.join(model_dir, "slayer_tokenizer.json")
        if os.path.exists(desc):  # a tiny checkpoint's byte-level vocabulary
            with open(desc, encoding="utf-8") as f:
                d = json.load(f)
            if d.get("type") == "bytes":
                return ByteTokenizer(vocab_size, d.get("eos_token_id"))
        tj = os.path.join(model_dir, "tokenizer.json")
        try:
            from tokenizers import Tokenizer as HfTok  # type: ignore[import-not-found]
            if os.path.exists(tj):
                tok = HfTok.from_file(tj)
                eos = _eos_from_config(model_dir)
                return LibraryTokenizer(lambda s: tok.encode(s, add_special_tokens=False).ids, eos, "tokenizers")
        except ImportError:
            pass
        try:
            from transformers import AutoTokenizer  # type: ignore[import-not-found]
            if any(os.path.exists(os.path.join(model_dir, f)) for f in ("tokenizer.json", "tokenizer.model")):
                at = AutoTokenizer.from_pretrained(model_dir)
                return LibraryTokenizer(lambda s: at.encode(s, add_special_tokens=False), at.eos_token_id, "transformers")
        except ImportError:
            pass
        own = [f for f in ("tokenizer.json", "tokenizer.model") if os.path.exists(os.path.join(model_dir, f))]
        if own:
            return MissingTokenizer(own[0], _eos_from_config(model_dir))
    return ByteTokenizer(vocab_size)


class MissingTokenizer:
    """The checkpoint has its own tokenizer but no library can read it here. Byte tokens would be
    meaningless to such a model, so text cannot be used; pre-tokenized files still can."""

    name = "missing"

    def __init__(self, file: str, eos_id: Optional[int]) -> None:
        self.file, self.eos_id = file, eos_id

    def encode(self, text: str) -> List[int]:
        raise DataError(f"this checkpoint has its own tokenizer ({self.file}) but neither `tokenizers` nor "
                        "`transformers` is importable here: install one, or give pre-tokenized token files")


def _eos_from_config(model_dir: str) -> Optional[int]:
    for f in ("generation_config.json", "config.json"):
        p = os.path.join(model_dir, f)
        if os.path.exists(p):
            with open(p, encoding="utf-8") as fh:
                eos = json.load(fh).get("eos_token_id")
            if isinstance(eos, list):
                eos = eos[0] if eos else None
            if isinstance(eos, int):
                return eos
    return None


# ---------------------------------------------------------------------------------------------
# Reading files into one token array

_TOKEN_SUFFIXES = {".u16": np.uint16, ".uint16": np.uint16, ".u32": np.uint32, ".uint32": np.uint32}


def is_token_file(path: str) -> bool:
    return Path(path).suffix.lower() in (*_TOKEN_SUFFIXES, ".bin", ".npy")


def read_token_file(path: str, vocab_size: int) -> np.ndarray:
    """A 1-D memory map of a pre-tokenized file (nothing is read until sequences are taken)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        arr = np.load(path, mmap_mode="r")
        if arr.ndim != 1 or arr.dtype.kind not in "ui":
            raise DataError(f"{path}: expected a 1-D integer array, got {arr.dtype} {arr.shape}")
        return arr
    dtype = _TOKEN_SUFFIXES.get(suffix, np.uint16 if vocab_size <= 65536 else np.uint32)
    size = os.path.getsize(path)
    if size % np.dtype(dtype).itemsize:
        raise DataError(f"{path}: {size} bytes is not a whole number of {np.dtype(dtype).name} tokens")
    return np.memmap(path, dtype=dtype, mode="r")


def text_documents(path: str) -> List[str]:
    """A text file is one document; a JSONL file holds one per line in its `text` field."""
    if path.endswith(".jsonl"):
        docs = []
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    rec = json.loads(line)
                    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
                        raise DataError(f"{path}:{n}: a CPT JSONL line needs a string field \"text\"")
                    docs.append(rec["text"])
        return docs
    with open(path, encoding="utf-8") as f:
        return [f.read()]


def read_tokens(path: str, tokenizer: Tokenizer, vocab_size: int) -> np.ndarray:
    if is_token_file(path):
        return read_token_file(path, vocab_size)
    dtype = np.uint32 if vocab_size > 65536 else np.uint16
    eos = [] if tokenizer.eos_id is None else [tokenizer.eos_id]
    if isinstance(tokenizer, ByteTokenizer) and not path.endswith(".jsonl"):
        # The bytes are the tokens: no Python list of ints (28 bytes each) for a large file.
        raw = np.fromfile(path, dtype=np.uint8)
        return np.concatenate([raw.astype(dtype), np.asarray(eos, dtype=dtype)])
    parts = [np.asarray(tokenizer.encode(doc) + eos, dtype=dtype) for doc in text_documents(path)]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def resolve_data(name: str, datasets: Mapping[str, str], base_dir: Optional[str] = None) -> str:
    """A plan's dataset name → a path: run.json's map first, then the name as a path, then the
    bundled sample for `sample`."""
    path = datasets.get(name, name)
    path = os.path.expanduser(path)
    if base_dir and not os.path.isabs(path):
        path = os.path.join(base_dir, path)
    if os.path.exists(path):
        return path
    if name in SAMPLE_NAMES:
        return str(SAMPLE_TEXT)
    raise DataError(f"dataset {name!r}: no file at {path} (map it to a path on this host in run.json `datasets`)")


# ---------------------------------------------------------------------------------------------
# Streams: each yields (inputs, labels) of shape (n, seq_len) and can save/restore its position

@dataclass
class Batch:
    inputs: torch.Tensor  # (n, seq_len) int64
    labels: torch.Tensor  # (n, seq_len) int64, IGNORE where no loss

    @property
    def target_tokens(self) -> int:
        return int((self.labels != IGNORE).sum())


class Stream(Protocol):
    def take(self, n: int) -> Batch: ...
    def state_dict(self) -> Dict[str, Any]: ...
    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class _Order:
    """A seeded permutation of `count` items per epoch, and a cursor into it."""

    def __init__(self, count: int, seed: int) -> None:
        self.count, self.seed = count, seed
        self.epoch, self.cursor = 0, 0
        self._perm = self._make()

    def _make(self) -> torch.Tensor:
        return torch.randperm(self.count, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch))

    def next(self) -> int:
        if self.cursor >= self.count:
            self.epoch, self.cursor = self.epoch + 1, 0
            self._perm = self._make()
        i = int(self._perm[self.cursor])
        self.cursor += 1
        return i

    def state_dict(self) -> Dict[str, Any]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._perm = self._make()


class PackedStream:
    """CPT: the token array cut into non-overlapping windows of seq_len + 1 tokens (x = w[:-1],
    y = w[1:]), shuffled per epoch."""

    def __init__(self, tokens: np.ndarray, seq_len: int, seed: int, vocab_size: int, source: str = "") -> None:
        self.tokens, self.seq_len, self.vocab_size, self.source = tokens, seq_len, vocab_size, source
        self.windows = (len(tokens) - 1) // seq_len
        if self.windows < 1:
            raise DataError(f"{source or 'data'}: {len(tokens)} tokens is less than one sequence of {seq_len + 1}")
        self.order = _Order(self.windows, seed)

    @property
    def epoch_tokens(self) -> int:
        return self.windows * self.seq_len

    def window(self, k: int) -> np.ndarray:
        return np.asarray(self.tokens[k * self.seq_len: k * self.seq_len + self.seq_len + 1], dtype=np.int64)

    def take(self, n: int) -> Batch:
        w = torch.from_numpy(np.stack([self.window(self.order.next()) for _ in range(n)]))
        if int(w.max()) >= self.vocab_size:
            raise DataError(f"{self.source}: token id {int(w.max())} >= vocabulary {self.vocab_size}")
        return Batch(w[:, :-1].contiguous(), w[:, 1:].contiguous())

    def state_dict(self) -> Dict[str, Any]:
        return self.order.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.order.load_state_dict(state)


def read_sft(path: str, tokenizer: Tokenizer) -> List[Tuple[List[int], List[int]]]:
    """(prompt ids, response ids) per JSONL line; the end-of-document token closes each response."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if isinstance(rec.get("prompt_ids"), list) and isinstance(rec.get("response_ids"), list):
                p, r = [int(i) for i in rec["prompt_ids"]], [int(i) for i in rec["response_ids"]]
            else:
                prompt = rec.get("prompt", rec.get("instruction"))
                response = rec.get("response", rec.get("output"))
                if not isinstance(prompt, str) or not isinstance(response, str):
                    raise DataError(f"{path}:{n}: an SFT line needs \"prompt\" and \"response\" strings "
                                    "(or \"prompt_ids\"/\"response_ids\")")
                p, r = tokenizer.encode(prompt), tokenizer.encode(response)
            if tokenizer.eos_id is not None:
                r = r + [tokenizer.eos_id]
            out.append((p, r))
    if not out:
        raise DataError(f"{path}: no SFT examples")
    return out


class SFTStream:
    """SFT: one example per sequence (prompt + response, truncated to seq_len + 1, padded);
    labels are IGNORE on the prompt and the padding, so only the response carries loss."""

    def __init__(self, examples: List[Tuple[List[int], List[int]]], seq_len: int, seed: int,
                 vocab_size: int, pad_id: int = 0, source: str = "") -> None:
        self.examples, self.seq_len, self.vocab_size, self.pad_id, self.source = examples, seq_len, vocab_size, pad_id, source
        self.order = _Order(len(examples), seed)

    @property
    def epoch_tokens(self) -> int:
        return len(self.examples) * self.seq_len

    def encode(self, k: int) -> Tuple[List[int], List[int]]:
        p, r = self.examples[k]
        full = (p + r)[: self.seq_len + 1]
        inputs, targets = full[:-1], full[1:]
        labels = [t if i + 1 >= len(p) else IGNORE for i, t in enumerate(targets)]
        pad = self.seq_len - len(inputs)
        return inputs + [self.pad_id] * pad, labels + [IGNORE] * pad

    def take(self, n: int) -> Batch:
        rows = [self.encode(self.order.next()) for _ in range(n)]
        inputs = torch.tensor([r[0] for r in rows], dtype=torch.int64)
        if int(inputs.max()) >= self.vocab_size:
            raise DataError(f"{self.source}: token id {int(inputs.max())} >= vocabulary {self.vocab_size}")
        return Batch(inputs, torch.tensor([r[1] for r in rows], dtype=torch.int64))

    def state_dict(self) -> Dict[str, Any]:
        return self.order.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.order.load_state_dict(state)


class Mixture:
    """Several sources by weight, interleaved by smooth weighted round robin: deterministic, no RNG,
    and each source's share over any window is within one sequence of its weight."""

    def __init__(self, sources: Sequence[Tuple[float, Stream]]) -> None:
        if not sources:
            raise DataError("a stage needs at least one data source")
        self.weights = [float(w) for w, _ in sources]
        self.streams = [s for _, s in sources]
        self.credits = [0.0] * len(sources)

    def _pick(self) -> int:
        total = sum(self.weights)
        for i, w in enumerate(self.weights):
            self.credits[i] += w
        j = max(range(len(self.credits)), key=lambda i: self.credits[i])
        self.credits[j] -= total
        return j

    def take(self, n: int) -> Batch:
        if len(self.streams) == 1:
            return self.streams[0].take(n)
        parts = [self.streams[self._pick()].take(1) for _ in range(n)]
        return Batch(torch.cat([p.inputs for p in parts]), torch.cat([p.labels for p in parts]))

    def state_dict(self) -> Dict[str, Any]:
        return {"credits": list(self.credits), "sources": [s.state_dict() for s in self.streams]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.credits = [float(c) for c in state["credits"]]
        for s, st in zip(self.streams, state["sources"]):
            s.load_state_dict(st)


def open_stage_data(kind: str, data: Sequence[Mapping[str, Any]], datasets: Mapping[str, str],
                    tokenizer: Tokenizer, vocab_size: int, seq_len: int, seed: int,
                    base_dir: Optional[str] = None) -> Tuple[Mixture, int]:
    """The stage's mixture and the tokens of one epoch over all its sources."""
    sources: List[Tuple[float, Stream]] = []
    epoch_tokens = 0
    for i, d in enumerate(data):
        path = resolve_data(str(d["name"]), datasets, base_dir)
        s: Any
        if kind == "sft" and path.endswith(".jsonl"):
            s = SFTStream(read_sft(path, tokenizer), seq_len, seed + i, vocab_size,
                          pad_id=tokenizer.eos_id or 0, source=path)
        else:
            s = PackedStream(read_tokens(path, tokenizer, vocab_size), seq_len, seed + i, vocab_size, source=path)
        sources.append((float(d.get("weight", 1.0)), s))
        epoch_tokens += s.epoch_tokens
    return Mixture(sources), epoch_tokens


def calibration_batch(path: str, tokenizer: Tokenizer, vocab_size: int, seq_len: int,
                      max_sequences: int) -> torch.Tensor:
    """The first `max_sequences` consecutive windows of `seq_len` tokens (no shuffling): (n, seq_len)."""
    tokens = read_tokens(path, tokenizer, vocab_size)
    n = min(max_sequences, len(tokens) // seq_len)
    if n < 1:
        raise DataError(f"{path}: {len(tokens)} tokens is less than one calibration sequence of {seq_len}")
    ids = torch.from_numpy(np.asarray(tokens[: n * seq_len], dtype=np.int64)).view(n, seq_len)
    if int(ids.max()) >= vocab_size:
        raise DataError(f"{path}: token id {int(ids.max())} >= vocabulary {vocab_size}")
    return ids
