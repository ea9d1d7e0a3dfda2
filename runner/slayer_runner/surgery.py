"""``surgery``: apply a LayerMap to a Hugging Face checkpoint directory and write a new one.

Per output block b and per tensor suffix s of a block (``model.layers.N.<s>``):
  * s in b.zero                      → zeros (dtype and shape of the source tensor);
  * one source with weight 1          → the source tensor's bytes, copied unchanged;
  * otherwise                         → Σ weight·θ_layer.s computed in float32, cast back to the dtype.
Tensors outside the blocks (embeddings, final norm, head) are copied unchanged. Block numbers are
matched with the anchored pattern ``^model\\.layers\\.(\\d+)\\.``, never a substring replace.

Out of core: output tensors are streamed into shards as they are produced. Unchanged tensors are
copied file to file by the kernel, zeroed ones are file holes, averaged ones are computed in pieces
of MIX_CHUNK elements; the process holds a few small buffers, never a tensor, a shard or the model.
The source directory is only read. Everything is written into a hidden temporary directory next to
the output, fsynced, and renamed into place at the end.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

import torch

from .checkpoint import (DEFAULT_MAX_SHARD, Checkpoint, CheckpointError, ShardWriter, copy_extra_files, parse_size,
                         plan_shards, split_shards, write_config)
from .events import EventWriter, Progress
from .outputs import OutputError, check_output, move_into_place, remove_stale, temp_dir_for
from .layermap import LayerMap, LayerMapError, load_layer_map, validate_layer_map
from .modelconfig import ModelConfig, ModelConfigError, block_suffixes as family_block_suffixes, families, resize_per_layer
from .shapes import shape_problems
from .safetensors_io import SafetensorsError, TensorSpec, read_elements
from .units import human_bytes

BLOCK_RE = re.compile(r"^model\.layers\.(\d+)\.(.+)$")
EMBED_PREFIX = "model.embed_tokens."


class SurgeryError(RuntimeError):
    """The plan cannot be applied to this checkpoint, or the output cannot be written."""


@dataclass(frozen=True)
class OutputTensor:
    """How one output tensor is produced."""
    name: str
    spec: TensorSpec
    op: str                                  # "copy" | "zero" | "mix"
    sources: tuple[tuple[str, float], ...]   # (source tensor name, weight)


def split_block_name(name: str) -> Optional[tuple[int, str]]:
    m = BLOCK_RE.match(name)
    return (int(m.group(1)), m.group(2)) if m else None


def block_suffixes(ck: Checkpoint, num_layers: int) -> list[str]:
    """The tensor suffixes every block has (in storage order of block 0); checks all blocks agree."""
    per_layer: dict[int, list[str]] = {}
    for name in ck.keys():
        parts = split_block_name(name)
        if parts is None:
            continue
        layer, suffix = parts
        if layer >= num_layers:
            raise SurgeryError(f"tensor {name} belongs to block {layer}, but config.json says "
                               f"num_hidden_layers = {num_layers}")
        per_layer.setdefault(layer, []).append(suffix)
    if sorted(per_layer) != list(range(num_layers)):
        missing = sorted(set(range(num_layers)) - set(per_layer))
        raise SurgeryError(f"the checkpoint has no tensors for blocks {missing}")
    first = per_layer[0]
    for layer, suffixes in per_layer.items():
        if set(suffixes) != set(first):
            diff = sorted(set(suffixes).symmetric_difference(first))
            raise SurgeryError(f"block {layer} does not have the same tensors as block 0 (differs in {diff})")
    return first


def check_family_tensors(config: dict[str, Any], suffixes: list[str]) -> None:
    """For a known family, the blocks hold exactly the tensors its config.json describes (so the
    LayerMap's zero lists, computed from the config, name tensors that exist)."""
    if str(config.get("model_type", "llama")) not in families():
        return
    try:
        expected = family_block_suffixes(ModelConfig.from_hf(config))
    except (ModelConfigError, KeyError, TypeError, ValueError) as err:
        raise SurgeryError(f"config.json cannot be read: {err}") from None
    if set(expected) != set(suffixes):
        raise SurgeryError(f"the blocks' tensors do not match config.json ({config.get('model_type')}): "
                           f"missing {sorted(set(expected) - set(suffixes))[:4]}, "
                           f"unexpected {sorted(set(suffixes) - set(expected))[:4]}")


def plan_outputs(layer_map: LayerMap, ck: Checkpoint) -> list[OutputTensor]:
    """Every output tensor, in output order: embeddings, blocks 0..M-1, then the other tensors."""
    base_layers = int(layer_map["base"]["numLayers"])
    cfg_layers = ck.config.get("num_hidden_layers")
    if cfg_layers != base_layers:
        raise SurgeryError(f"the plan is for a {base_layers}-block model, but {ck.dir}/config.json says "
                           f"num_hidden_layers = {cfg_layers}")
    hidden = ck.config.get("hidden_size")
    if hidden is not None and hidden != layer_map["base"]["hiddenSize"]:
        raise SurgeryError(f"the plan's base model has hidden size {layer_map['base']['hiddenSize']}, "
                           f"the checkpoint {hidden}")
    suffixes = block_suffixes(ck, base_layers)
    check_family_tensors(ck.config, suffixes)
    outs: list[OutputTensor] = []
    others = [n for n in ck.keys() if split_block_name(n) is None]
    for name in others:
        if name.startswith(EMBED_PREFIX):
            outs.append(OutputTensor(name, ck.spec(name), "copy", ((name, 1.0),)))
    for block in layer_map["blocks"]:
        zero = set(block["zero"])
        unknown = zero - set(suffixes)
        if unknown:
            raise SurgeryError(f"block {block['index']}: cannot zero {sorted(unknown)}: the checkpoint's blocks "
                               f"have no such tensors")
        for suffix in suffixes:
            name = f"model.layers.{block['index']}.{suffix}"
            srcs = tuple((f"model.layers.{s['layer']}.{suffix}", float(s["weight"])) for s in block["sources"])
            first = ck.spec(srcs[0][0])
            for src, _w in srcs[1:]:
                other = ck.spec(src)
                if other.shape != first.shape:
                    raise SurgeryError(f"cannot average {srcs[0][0]} {first.shape} with {src} {other.shape}")
            spec = TensorSpec(name, first.dtype, first.shape)
            if suffix in zero:
                op = "zero"
            elif len(srcs) == 1 and srcs[0][1] == 1.0:
                op = "copy"
            else:
                op = "mix"
            outs.append(OutputTensor(name, spec, op, srcs))
    for name in others:
        if not name.startswith(EMBED_PREFIX):
            outs.append(OutputTensor(name, ck.spec(name), "copy", ((name, 1.0),)))
    return outs


MIX_CHUNK = 1 << 18  # elements per float32 scratch block: small enough to stay in cache


def mix_chunks(ck: Checkpoint, out: OutputTensor) -> Iterator[torch.Tensor]:
    """Σ weight·θ in float32 (sources in the LayerMap's order), cast back to the output dtype, as
    consecutive 1-D pieces: sources are read piece by piece, so memory stays at a few small buffers
    whatever the tensor's size. Same arithmetic as ``sum(t.float() * w)`` element by element.
    Each piece is only valid until the next one is asked for (the buffers are reused)."""
    n = math.prod(out.spec.shape)
    chunk = min(n, MIX_CHUNK)
    acc_buf = torch.empty(chunk, dtype=torch.float32)
    term_buf = torch.empty_like(acc_buf)
    out_buf = torch.empty(chunk, dtype=out.spec.dtype)
    readers = [(ck.reader(name), name, w, torch.empty(chunk * ck.info(name).nbytes // max(n, 1), dtype=torch.uint8))
               for name, w in out.sources]
    for lo in range(0, n, MIX_CHUNK):
        k = min(n, lo + MIX_CHUNK) - lo
        acc, term = acc_buf[:k], term_buf[:k]
        for j, (reader, name, w, raw) in enumerate(readers):
            piece = read_elements(reader, name, lo, k, into=raw)
            if j == 0:
                acc.copy_(piece).mul_(w)
            else:
                acc.add_(term.copy_(piece).mul_(w))
        yield out_buf[:k].copy_(acc)


def mix(ck: Checkpoint, out: OutputTensor) -> torch.Tensor:
    """The whole mixed tensor (for callers that want it in memory)."""
    return torch.cat([piece.clone() for piece in mix_chunks(ck, out)]).reshape(out.spec.shape)


def updated_config(config: dict[str, Any], layer_map: LayerMap) -> dict[str, Any]:
    """config.json of the result: new depth, per-layer lists remapped, the plan recorded under "slayer"."""
    blocks = layer_map["blocks"]
    base_layers = int(layer_map["base"]["numLayers"])
    # Per-layer lists (layer_types, …) follow each block's first source.
    cfg = resize_per_layer(config, [int(b["sources"][0]["layer"]) for b in blocks])
    cfg["slayer"] = {
        "version": 1,
        "plan": layer_map["plan"],
        "base_num_layers": base_layers,
        "blocks": [{k: b[k] for k in ("index", "role", "init", "sources", "zero", "trainable")} for b in blocks],
        "deleted": layer_map["deleted"],
        "trainable_extras": layer_map["trainableExtras"],
    }
    return cfg


def remove_stale_temp_dirs(output: Path) -> list[Path]:
    """What surgeries to the same output that were killed (their PIDs gone) left (outputs.remove_stale)."""
    return remove_stale(output)


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
        return True
    except ValueError:
        return False


def apply_layer_map(layer_map: dict[str, Any], source: Path, output: Path, events: Optional[EventWriter] = None,
                    overwrite: bool = False, max_shard_bytes: int = DEFAULT_MAX_SHARD,
                    num_shards: Optional[int] = None, fsync: bool = True, force: bool = False) -> dict[str, Any]:
    """Writes the result of ``layer_map`` applied to checkpoint ``source`` at ``output``.

    Returns a summary (blocks, tensors, bytes, shards, seconds). Raises SurgeryError (or
    LayerMapError / CheckpointError) with a message meant for the user; no partial output remains.
    ``fsync=False`` skips waiting for the data to reach the disk before the rename (after a power
    loss the output could then be incomplete; after a crash of the process it cannot).
    ``overwrite`` replaces an existing output only when it is recognisably a checkpoint; ``force``
    replaces any directory (outputs.check_output).
    """
    started = time.monotonic()
    layer_map = validate_layer_map(layer_map)
    source, output = Path(source).resolve(), Path(output).resolve()
    if _inside(output, source) or _inside(source, output):
        raise SurgeryError(f"the output {output} must be outside the source {source} (and not contain it)")
    output.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(output)
    try:
        check_output(output, overwrite, force)
    except OutputError as err:
        raise SurgeryError(str(err)) from None
    if events:
        events.phase("surgery", "start")
    with Checkpoint(source) as ck:
        # The shapes against config.json, as `slayer inspect` judges them (shapes.py): a transposed
        # embedding or a wrong k_proj is refused here, not written into a new checkpoint.
        problems = [p for p in shape_problems(ck.config, {n: ck.info(n).shape for n in ck.keys()}) if p[0] != "config"]
        if problems:
            raise SurgeryError(f"{source}: the tensors do not match config.json: "
                               + "; ".join(msg for _, msg in problems[:3]) + (" …" if len(problems) > 3 else ""))
        outs = plan_outputs(layer_map, ck)
        specs = [o.spec for o in outs]
        tmp = temp_dir_for(output)
        tmp.mkdir()
        syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fsync")
        try:
            shards = split_shards(specs, num_shards) if num_shards else plan_shards(specs, max_shard_bytes)
            writer = ShardWriter(tmp, shards)
            total = sum(s.nbytes for s in specs)
            progress = Progress(events, "surgery", total, "bytes")
            synced: list[Future[None]] = []
            done, shards_logged = 0, 0
            for o in outs:
                if o.op == "copy":
                    src = o.sources[0][0]
                    writer.copy_from(o.name, ck.reader(src), src)
                elif o.op == "zero":
                    writer.write_zeros(o.name)
                else:
                    writer.write_chunks(o.name, mix_chunks(ck, o))
                done += o.spec.nbytes
                progress.update(done)
                if len(writer.written_files) > shards_logged:
                    # A finished shard is flushed to disk in the background while the next is written.
                    if fsync:
                        synced += [syncer.submit(_fsync_file, p) for p in writer.written_files[shards_logged:]]
                    shards_logged = len(writer.written_files)
                    if events:
                        events.log(f"wrote {writer.written_files[-1].name}")
            writer.close()
            write_config(tmp, updated_config(ck.config, layer_map))
            extras = copy_extra_files(source, tmp)
            done_files = set(writer.written_files)
            if fsync:
                synced += [syncer.submit(_fsync_file, p) for p in tmp.iterdir() if p.is_file() and p not in done_files]
            for f in synced:
                f.result()
            try:
                move_into_place(tmp, output, overwrite, force)
            except OutputError as err:
                raise SurgeryError(f"{err} (it appeared while surgery ran)") from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            syncer.shutdown(wait=True, cancel_futures=True)
    summary = {
        "output": str(output), "blocks": len(layer_map["blocks"]), "tensors": len(outs), "bytes": total,
        "shards": len(writer.names), "files_copied": extras,
        "new_tensors": sum(1 for o in outs if o.op == "mix"), "zeroed_tensors": sum(1 for o in outs if o.op == "zero"),
        "seconds": round(time.monotonic() - started, 3),
    }
    if events:
        events.artifact("checkpoint", _artifact_path(output, events), total)
        events.phase("surgery", "end", detail=f"{summary['blocks']} blocks, {summary['shards']} shard(s), "
                                              f"{human_bytes(total)}")
    return summary


def _artifact_path(output: Path, events: EventWriter) -> str:
    """Relative to the run directory (where events.jsonl is) when inside it, as other artifacts are."""
    try:
        return str(output.relative_to(events.path.parent.resolve()))
    except ValueError:
        return str(output)


def _fsync_file(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # the temporary directory was removed after a failure
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Terminated(BaseException):
    """SIGTERM arrived (``slayer cancel``, scancel): unwinds like an exception so the temporary
    output is removed on the way out."""


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within this block SIGTERM raises Terminated (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(_sig: int, _frame: Any) -> None:
        raise Terminated("cancelled by SIGTERM")

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m slayer_runner surgery",
                                 description="Apply a LayerMap (slayer compile) to a Hugging Face checkpoint directory.")
    ap.add_argument("--layer-map", required=True, type=Path, help="LayerMap JSON (what `slayer compile` prints)")
    ap.add_argument("--source", required=True, type=Path, help="base checkpoint directory (never modified)")
    ap.add_argument("--output", required=True, type=Path, help="new checkpoint directory (must not exist)")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing output checkpoint directory")
    ap.add_argument("--force", action="store_true",
                    help="replace an existing output directory even if it is not a checkpoint")
    ap.add_argument("--max-shard-size", default="5GB", help="largest shard, e.g. 5GB, 500MB (default 5GB)")
    ap.add_argument("--no-fsync", action="store_true",
                    help="do not wait for the output to reach the disk before renaming it into place")
    ap.add_argument("--events", type=Path, default=None, help="append JSON-lines events to this file")
    ap.add_argument("--run-id", default="surgery", help="run id written in the events")
    a = ap.parse_args(list(argv))
    events = EventWriter(a.events, a.run_id) if a.events else None
    try:
        with sigterm_raises():
            layer_map = load_layer_map(a.layer_map)
            summary = apply_layer_map(layer_map, a.source, a.output, events, overwrite=a.overwrite, force=a.force,
                                      max_shard_bytes=parse_size(a.max_shard_size), fsync=not a.no_fsync)
    except Terminated:
        print("surgery: cancelled by SIGTERM; nothing was written", file=sys.stderr, flush=True)
        if events:
            events.log("cancelled by SIGTERM", "warning")
            events.done("cancelled", 143)
            events.close()
        return 143
    except (SurgeryError, LayerMapError, CheckpointError, SafetensorsError, OSError) as err:
        print(f"surgery: {err}", file=sys.stderr, flush=True)
        if events:
            events.error(str(err), "surgery", traceback.format_exc())
            events.done("failed", 1)
            events.close()
        return 1
    print(f"surgery: wrote {summary['output']}: {summary['blocks']} blocks, {summary['tensors']} tensors "
          f"({summary['new_tensors']} averaged, {summary['zeroed_tensors']} zeroed), {summary['shards']} shard(s), "
          f"{human_bytes(summary['bytes'])} in {summary['seconds']:.2f} s")
    if events:
        events.done("succeeded", 0)
        events.close()
    print(json.dumps(summary))
    return 0
