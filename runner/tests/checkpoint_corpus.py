"""The shared corpus of corrupt (and valid) checkpoints, judged by both readers (issue 14 case 11).

``write_corpus(root)`` writes every case as a directory under ``root`` — byte-exact, deterministic,
no torch needed (symlinks, FIFOs and a device are made here, which is why the corpus is generated
rather than committed) — and returns {case: {"path", "expect"}}, where ``expect`` is ``"accept"``
or the reason code both readers must give. ``python_verdict(dir)`` is the runner's verdict
(checkpoint_files + safetensors_io + shapes: what surgery, inspect, importance and training read).

The TypeScript side is test/contracts/checkpointVerdicts.test.ts, which runs this file:
    python runner/tests/checkpoint_corpus.py write ROOT     → prints the case table as JSON
    python runner/tests/checkpoint_corpus.py verdicts ROOT  → prints {case: runner verdict}
    python runner/tests/checkpoint_corpus.py messages ROOT  → prints {case: runner message} (refusals)
and fails unless its own verdicts, the runner's and ``expect`` are one and the same — and, for a
file that is not a regular file or a symlink leading out, the very same words.
"""
from __future__ import annotations

import json
import os
import stat
import struct
import sys
from pathlib import Path
from typing import Any, Callable, Union

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8, "intermediate_size": 12,
          "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4,
          "vocab_size": 16, "tie_word_embeddings": False, "torch_dtype": "float32"}
INDEX = "model.safetensors.index.json"

Header = Union[dict[str, Any], bytes]


def tensors(config: dict[str, Any] = CONFIG) -> list[tuple[str, list[int]]]:
    """The Llama tensors of ``config`` (F32), in storage order."""
    h, i, v = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    q, kv = config["num_attention_heads"] * config["head_dim"], config["num_key_value_heads"] * config["head_dim"]
    out = [("model.embed_tokens.weight", [v, h])]
    for n in range(config["num_hidden_layers"]):
        out += [(f"model.layers.{n}.{s}", shape) for s, shape in (
            ("input_layernorm.weight", [h]), ("self_attn.q_proj.weight", [q, h]), ("self_attn.k_proj.weight", [kv, h]),
            ("self_attn.v_proj.weight", [kv, h]), ("self_attn.o_proj.weight", [h, q]),
            ("post_attention_layernorm.weight", [h]), ("mlp.gate_proj.weight", [i, h]),
            ("mlp.up_proj.weight", [i, h]), ("mlp.down_proj.weight", [h, i]))]
    return out + [("model.norm.weight", [h]), ("lm_head.weight", [v, h])]


def header_of(ts: list[tuple[str, list[int]]]) -> dict[str, Any]:
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    pos = 0
    for name, shape in ts:
        n = 4
        for d in shape:
            n *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [pos, pos + n]}
        pos += n
    return header


def data_size(header: dict[str, Any]) -> int:
    return max((e["data_offsets"][1] for k, e in header.items() if k != "__metadata__"), default=0)


def shard_bytes(header: Header, data: int | None = None, length: int | None = None) -> bytes:
    """8-byte length + header + ``data`` bytes of a repeating pattern (default: what the header needs)."""
    raw = header if isinstance(header, bytes) else json.dumps(header, separators=(",", ":")).encode()
    n = data_size(header) if data is None and isinstance(header, dict) else (data or 0)
    body = bytes((k * 7) & 0xFF for k in range(n))
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def checkpoint(d: Path, config: dict[str, Any] = CONFIG, single: bytes | None = None, shards: int = 1,
               ts: list[tuple[str, list[int]]] | None = None) -> Path:
    """A valid checkpoint (``shards`` files with an index when > 1), or ``single`` as model.safetensors."""
    d.mkdir(parents=True)
    (d / "config.json").write_text(json.dumps(config))
    ts = tensors(config) if ts is None else ts
    if single is not None or shards == 1:
        (d / "model.safetensors").write_bytes(single if single is not None else shard_bytes(header_of(ts)))
        return d
    k = (len(ts) + shards - 1) // shards
    weight_map = {}
    for s in range(shards):
        part = ts[s * k:(s + 1) * k]
        name = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        (d / name).write_bytes(shard_bytes(header_of(part)))
        weight_map.update({t: name for t, _ in part})
    (d / INDEX).write_text(json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    return d


def with_index(d: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    index = json.loads((d / INDEX).read_text())
    out = change(index)
    (d / INDEX).write_bytes(out if isinstance(out, bytes) else json.dumps(out if out is not None else index).encode())


def _entry(dtype: str = "F32", shape: Any = (2,), offsets: Any = (0, 8), **extra: Any) -> dict[str, Any]:
    return {"dtype": dtype, "shape": list(shape) if isinstance(shape, tuple) else shape,
            "data_offsets": list(offsets) if isinstance(offsets, tuple) else offsets, **extra}


def write_corpus(root: Path) -> dict[str, dict[str, str]]:
    root = Path(root)
    cases: dict[str, dict[str, str]] = {}

    def case(name: str, expect: str, build: Callable[[Path], Path | None]) -> None:
        d = root / name
        built = build(d)
        cases[name] = {"path": str(built or d), "expect": expect}

    one = lambda header, **kw: (lambda d: checkpoint(d, single=shard_bytes(header, **kw)))  # noqa: E731
    full = header_of(tensors())

    # Valid, or valid in ways one reader used to doubt.
    case("ok-single", "accept", lambda d: checkpoint(d))
    case("ok-sharded", "accept", lambda d: checkpoint(d, shards=3))
    case("ok-unindexed-shards", "accept", lambda d: (checkpoint(d, shards=2), (d / INDEX).unlink(), d)[2])
    full_raw = json.dumps(full, separators=(",", ":")).encode()
    case("ok-extra-entry-field", "accept",
         one(full_raw.replace(b'"dtype":"F32",', b'"note":"kept","dtype":"F32",', 1), data=data_size(full)))
    case("ok-negative-zero", "accept", one(full_raw.replace(b'"data_offsets":[0,', b'"data_offsets":[-0,', 1),
                                           data=data_size(full)))
    case("ok-u16-extra-tensor", "accept",
         one({**full, "x": _entry("U16", (4,), (data_size(full), data_size(full) + 8))}))
    def symlink_inside(d: Path) -> Path:
        checkpoint(d, shards=2)
        (d / "blobs").mkdir()
        (d / "model-00001-of-00002.safetensors").rename(d / "blobs" / "a")
        (d / "model-00001-of-00002.safetensors").symlink_to("blobs/a")
        return d
    case("ok-symlink-inside", "accept", symlink_inside)

    def hf_snapshot(d: Path) -> Path:
        src = checkpoint(d / "src", shards=2)
        repo = d / "hub" / "models--org--tiny"
        snap = repo / "snapshots" / "0123456789abcdef"
        snap.mkdir(parents=True)
        (repo / "blobs").mkdir()
        for k, p in enumerate(sorted(src.iterdir())):
            p.rename(repo / "blobs" / f"sha{k}")
            (snap / p.name).symlink_to(f"../../blobs/sha{k}")
        return snap
    case("ok-hf-cache-snapshot", "accept", hf_snapshot)

    # Numbers: the TypeScript reader cannot tell 0.0 from 0 after JSON.parse, so neither accepts it.
    case("floats-in-data-offsets", "non-integer", one(b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8.0]}}', data=8))
    case("exponent-in-shape", "non-integer", one(b'{"x":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}', data=8))
    case("float-in-metadata", "non-integer", one(b'{"__metadata__":{"a":1.5},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=8))
    case("offset-beyond-2^53", "bad-entry", one(b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}}', data=8))
    case("negative-dimension", "bad-entry", one({"x": _entry(shape=[-2])}, data=8))
    case("boolean-dimension", "bad-entry", one({"x": _entry(shape=[True, 2])}, data=8))
    case("huge-shape", "size-mismatch", one({"x": _entry(shape=[2**40, 2**40, 0], offsets=(0, 0))}, data=0))

    # Header text.
    case("bom-before-header", "invalid-json", one(b'\xef\xbb\xbf{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=8))
    case("header-invalid-utf8", "invalid-utf8", one(b'{"\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data=8))
    case("header-nan", "invalid-json", one(b'{"__metadata__":{},"x":{"dtype":"F32","shape":[NaN],"data_offsets":[0,8]}}', data=8))
    case("header-100000-brackets", "invalid-json", one(b"[" * 100_000, data=0))
    case("header-deep-but-valid", "invalid-json", one(b"[" * 100_000 + b"]" * 100_000, data=0))
    case("header-deep-extra-field", "invalid-json",
         one(b'{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"n":' + b"[" * 100 + b"]" * 100 + b"}}", data=8))
    case("header-one-byte", "invalid-json", one(b"0", data=0))
    case("header-too-large", "header-too-large", one(b"{}", length=1 << 40, data=0))
    case("header-beyond-file", "header-beyond-file", one(b"{}", length=500, data=0))
    case("three-bytes", "truncated", lambda d: checkpoint(d, single=b"\x01\x02\x03"))
    case("header-is-a-list", "not-an-object", one(b"[1,2]", data=0))
    case("entry-without-dtype", "bad-entry", one({"x": {"shape": [2], "data_offsets": [0, 8]}}, data=8))
    case("unknown-dtype", "unknown-dtype", one({"x": _entry("Q7")}, data=8))
    case("size-mismatch", "size-mismatch", one({"x": _entry(offsets=(0, 12))}, data=12))
    case("offsets-reversed", "out-of-range", one({"x": _entry(offsets=(8, 0))}, data=8))
    case("gap", "gap", one({"x": _entry(), "y": _entry(offsets=(12, 20))}, data=20))
    case("overlap", "overlap", one({"x": _entry(), "y": _entry(offsets=(4, 12))}, data=12))
    case("trailing-bytes", "trailing-bytes", one({"x": _entry()}, data=9))
    case("data-truncated", "out-of-range", one(full, data=data_size(full) - 1))
    case("metadata-not-strings", "bad-metadata", one({"__metadata__": {"a": 1}, "x": _entry()}, data=8))

    # The index: names that leave the checkpoint (issue 14 case 4) and malformed ones (case 10).
    def index_case(change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
        def build(d: Path) -> Path:
            checkpoint(d, shards=2)
            with_index(d, change)
            return d
        return build

    def rename_shard(to: str) -> Callable[[dict[str, Any]], None]:
        def change(index: dict[str, Any]) -> None:
            for t, f in index["weight_map"].items():
                if f.startswith("model-00002"):
                    index["weight_map"][t] = to
        return change

    for name, target in (("index-etc-passwd", "/etc/passwd"), ("index-dev-zero", "/dev/zero"),
                         ("index-dotdot", "../outside.safetensors"), ("index-nul", "a\0b.safetensors"),
                         ("index-empty-name", ""), ("index-sub-dotdot", "sub/../../x.safetensors")):
        case(name, "bad-index", index_case(rename_shard(target)))
    case("index-weight-map-list", "bad-index", index_case(lambda i: {"weight_map": list(i["weight_map"])}))
    case("index-shard-number", "bad-index", index_case(lambda i: {"weight_map": {"a": 1}}))
    case("index-invalid-utf8", "bad-index", index_case(lambda i: json.dumps(i).encode().replace(b"model-00001", b"model-\xff0001")))
    case("index-bom", "bad-index", index_case(lambda i: b"\xef\xbb\xbf" + json.dumps(i).encode()))
    case("index-nan", "bad-index", index_case(lambda i: json.dumps(i).encode().replace(b'"total_size": 0', b'"total_size": NaN')))
    case("index-100000-brackets", "bad-index", index_case(lambda i: b"[" * 100_000))
    case("index-missing-shard", "missing-shard", index_case(rename_shard("model-00009-of-00009.safetensors")))
    case("index-ghost-tensor", "missing-tensor",
         index_case(lambda i: i["weight_map"].update({"ghost": "model-00001-of-00002.safetensors"})))
    case("index-unlisted-tensor", "unlisted-tensor", index_case(lambda i: (i["weight_map"].pop("model.norm.weight"), None)[1]))

    def duplicate(d: Path) -> Path:
        checkpoint(d, shards=2)  # then lm_head.weight, of the second shard, is put in the first too
        ts, half = tensors(), (len(tensors()) + 1) // 2
        (d / "model-00001-of-00002.safetensors").write_bytes(shard_bytes(header_of(ts[:half] + ts[-1:])))
        return d
    case("duplicate-tensor", "duplicate-tensor", duplicate)

    # Files that are not regular, or lead out (cases 4 and 7).
    def replace_shard(make: Callable[[Path, Path], None]) -> Callable[[Path], Path]:
        def build(d: Path) -> Path:
            checkpoint(d, shards=2)
            shard = d / "model-00002-of-00002.safetensors"
            shard.unlink()
            make(d, shard)
            return d
        return build

    def outside_valid(d: Path, shard: Path) -> None:
        other = checkpoint(d.parent / f"{d.name}-outside", shards=2)
        shard.symlink_to(other / shard.name)

    case("symlink-to-outside-shard", "outside-checkpoint", replace_shard(outside_valid))
    case("symlink-to-dev-zero", "outside-checkpoint", replace_shard(lambda d, s: s.symlink_to("/dev/zero")))
    case("symlink-to-etc-passwd", "outside-checkpoint", replace_shard(lambda d, s: s.symlink_to("/etc/passwd")))

    def dir_symlink_out(d: Path) -> Path:
        checkpoint(d, shards=2)
        other = checkpoint(d.parent / f"{d.name}-outside", shards=2)
        (d / "sub").symlink_to(other)
        with_index(d, rename_shard("sub/model-00002-of-00002.safetensors"))
        return d
    case("symlinked-dir-out", "outside-checkpoint", dir_symlink_out)
    case("fifo-shard", "not-a-file", replace_shard(lambda d, s: os.mkfifo(s)))
    case("directory-shard", "not-a-file", replace_shard(lambda d, s: s.mkdir()))
    case("fifo-index", "not-a-file", lambda d: (checkpoint(d, shards=2), (d / INDEX).unlink(), os.mkfifo(d / INDEX), d)[3])
    if os.geteuid() == 0:  # mknod needs root; without it the case is left out on both sides alike
        case("device-shard", "not-a-file", replace_shard(lambda d, s: os.mknod(s, stat.S_IFCHR | 0o644, os.makedev(1, 3))))

    # Shapes against config.json (slayer inspect refused these; the runner's surgery accepted them).
    def transposed(d: Path) -> Path:
        ts = [(n, list(reversed(s)) if n == "model.embed_tokens.weight" else s) for n, s in tensors()]
        return checkpoint(d, ts=ts)
    case("transposed-embedding", "vocab", transposed)
    case("kv-heads-wrong", "kv-heads", lambda d: checkpoint(
        d, ts=[(n, [8, 8] if n.endswith("k_proj.weight") else s) for n, s in tensors()]))
    case("layer-count", "layer-count", lambda d: checkpoint(d, config={**CONFIG, "num_hidden_layers": 3}, ts=tensors()))
    case("missing-block-tensor", "missing-tensor",
         lambda d: checkpoint(d, ts=[t for t in tensors() if t[0] != "model.layers.1.mlp.up_proj.weight"]))
    case("unsupported-model-type", "config", lambda d: checkpoint(d, config={**CONFIG, "model_type": "gpt2"}))
    return cases


def python_verdict(directory: str | os.PathLike[str]) -> str:
    """``accept`` or the code of the first reason the runner refuses the checkpoint."""
    from slayer_runner.checkpoint import Checkpoint, CheckpointError
    from slayer_runner.safetensors_io import SafetensorsError
    from slayer_runner.shapes import shape_problems
    try:
        with Checkpoint(directory) as ck:
            problems = shape_problems(ck.config, {n: ck.info(n).shape for n in ck.keys()})
    except (CheckpointError, SafetensorsError) as err:
        return err.code
    return problems[0][0] if problems else "accept"


def python_message(directory: str | os.PathLike[str]) -> str | None:
    """The runner's refusal message for the checkpoint (None when it reads it)."""
    from slayer_runner.checkpoint import Checkpoint, CheckpointError
    from slayer_runner.safetensors_io import SafetensorsError
    try:
        with Checkpoint(directory):
            return None
    except (CheckpointError, SafetensorsError) as err:
        return str(err)


if __name__ == "__main__":
    cmd, where = sys.argv[1], Path(sys.argv[2])
    if cmd == "write":
        table = write_corpus(where)
        (where / "cases.json").write_text(json.dumps(table, indent=1))
        print(json.dumps(table))
    elif cmd in ("verdicts", "messages"):
        table = json.loads((where / "cases.json").read_text()) if (where / "cases.json").exists() else None
        paths = {k: v["path"] for k, v in table.items()} if table else {p.name: str(p) for p in where.iterdir()}
        judge = python_verdict if cmd == "verdicts" else python_message
        print(json.dumps({k: judge(p) for k, p in paths.items()}))
    else:
        raise SystemExit(f"usage: {sys.argv[0]} write|verdicts|messages ROOT")
