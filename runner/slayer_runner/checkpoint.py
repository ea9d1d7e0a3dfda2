"""Hugging Face checkpoint directories: read lazily, write in shards as they fill.

A checkpoint directory holds ``config.json`` and either ``model.safetensors`` or shards
``model-0000k-of-0000N.safetensors`` listed by ``model.safetensors.index.json``
(``{"metadata": {"total_size": N}, "weight_map": {tensor: file}}``), plus tokenizer and generation
files. ``Checkpoint`` opens shards on demand and reads one tensor at a time. ``ShardWriter`` writes
the tensors of a known list in order, shard by shard, streaming (one tensor in memory).

For tests and small models: ``load_state_dict(dir) -> dict[str, Tensor]`` loads everything, and
``save_state_dict(state, dir, config=...)`` writes a complete checkpoint directory.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import torch

from .checkpoint_files import (CheckpointError, member_exists, member_path, parse_index, read_member_json)
from .safetensors_io import StreamWriter, TensorInfo, TensorReader, TensorSpec, open_reader, spec_of
from .units import DEFAULT_MAX_SHARD, parse_size  # noqa: F401 — torch-free in units.py, so make-tiny can refuse before importing torch

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
SHARD_METADATA = {"format": "pt"}
# Weight files of other formats are never copied through as "extra" files.
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf")
_WEIGHT_INDEXES = re.compile(r".*\.(safetensors|bin)\.index\.json$")


def shard_name(k: int, n: int) -> str:
    """1-based shard k of n."""
    return f"model-{k:05d}-of-{n:05d}.safetensors"


# ---------------------------------------------------------------------------------------------
# Reading

class Checkpoint:
    """A checkpoint directory, read lazily: the headers are parsed up front, tensors on demand."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        if not self.dir.is_dir():
            raise CheckpointError(f"{self.dir}: not a directory", "no-checkpoint")
        # Every file is reached through checkpoint_files: nothing outside the directory, nothing
        # but regular files (the same rule as src/modelfiles).
        if not member_exists(self.dir, CONFIG_FILE):
            raise CheckpointError(f"{self.dir}: no config.json", "no-config")
        config = read_member_json(self.dir, CONFIG_FILE, "config")
        if not isinstance(config, dict):
            raise CheckpointError(f"{self.dir / CONFIG_FILE}: not a JSON object", "config")
        self.config: dict[str, Any] = config
        index = self.dir / INDEX_FILE
        weight_map: Optional[dict[str, str]] = None
        if member_exists(self.dir, INDEX_FILE):
            weight_map = parse_index(read_member_json(self.dir, INDEX_FILE, "bad-index"), str(index))
            files = sorted(set(weight_map.values()))
        elif member_exists(self.dir, SINGLE_FILE):
            files = [SINGLE_FILE]
        else:
            # No index, no model.safetensors: every *.safetensors file, as src/modelfiles reads it.
            names = sorted(p.name for p in self.dir.iterdir())
            files = [n for n in names if n.endswith(".safetensors")]
            if not files:
                other = [n for n in names if n.endswith((".bin", ".pth", ".pt"))]
                hint = f" (found {', '.join(other)}: convert it to safetensors first)" if other else ""
                raise CheckpointError(f"{self.dir}: no {INDEX_FILE}, {SINGLE_FILE} or *.safetensors file{hint}",
                                      "no-checkpoint")
        self.files = files
        self._paths: dict[str, Path] = {}
        self._readers: dict[str, TensorReader] = {}
        self._where: dict[str, str] = {}
        self._infos: dict[str, TensorInfo] = {}
        from .safetensors_io import read_header
        for fname in files:
            try:
                self._paths[fname] = member_path(self.dir, fname)
            except CheckpointError as err:
                if err.code == "missing-shard" and weight_map is not None:
                    raise CheckpointError(f"{index}: names shard {fname!r}, which does not exist in {self.dir}",
                                          "missing-shard") from None
                raise
            infos, _meta, _start = read_header(self._paths[fname])
            for name, info in infos.items():
                if name in self._where:
                    raise CheckpointError(f"{self.dir}: tensor {name!r} appears in {self._where[name]} and {fname}",
                                          "duplicate-tensor")
                self._where[name] = fname
                self._infos[name] = info
        if weight_map is not None:
            for name, fname in weight_map.items():
                if self._where.get(name) != fname:
                    raise CheckpointError(f"{index}: maps tensor {name!r} to {fname}, but {fname} has no such tensor",
                                          "missing-tensor")
            unlisted = sorted(set(self._where) - set(weight_map))
            if unlisted:
                raise CheckpointError(f"{index}: the shards hold tensors the weight_map does not list "
                                      f"(e.g. {unlisted[:5]})", "unlisted-tensor")

    def shard_paths(self) -> list[Path]:
        """The checked real paths of the weight files, in ``files`` order."""
        return [self._paths[f] for f in self.files]

    def keys(self) -> list[str]:
        """Tensor names in storage order (shard by shard, file order within a shard)."""
        return list(self._infos)

    def info(self, name: str) -> TensorInfo:
        try:
            return self._infos[name]
        except KeyError:
            raise CheckpointError(f"{self.dir}: no tensor {name!r}") from None

    def spec(self, name: str) -> TensorSpec:
        i = self.info(name)
        return TensorSpec(name, i.dtype, i.shape)

    def file_of(self, name: str) -> str:
        self.info(name)
        return self._where[name]

    def reader(self, name: str) -> TensorReader:
        """The open reader of the shard holding ``name`` (opened on first use)."""
        fname = self.file_of(name)
        r = self._readers.get(fname)
        if r is None:
            r = self._readers[fname] = open_reader(self._paths[fname])
        return r

    def get_tensor(self, name: str) -> torch.Tensor:
        return self.reader(name).get_tensor(name)

    def iter_tensors(self) -> Iterator[tuple[str, torch.Tensor]]:
        for name in self.keys():
            yield name, self.get_tensor(name)

    @property
    def total_bytes(self) -> int:
        return sum(i.nbytes for i in self._infos.values())

    def close(self) -> None:
        for r in self._readers.values():
            r.close()
        self._readers.clear()

    def __enter__(self) -> "Checkpoint":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def load_state_dict(directory: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint directory, by name (small models: tests, the tiny demo)."""
    with Checkpoint(directory) as ck:
        return dict(ck.iter_tensors())


# ---------------------------------------------------------------------------------------------
# Writing

def plan_shards(specs: Sequence[TensorSpec], max_shard_bytes: int) -> list[list[TensorSpec]]:
    """Greedy, in order: a shard closes when the next tensor would push it past the limit
    (a tensor larger than the limit gets a shard of its own)."""
    if max_shard_bytes <= 0:
        raise CheckpointError("max shard size must be positive")
    shards: list[list[TensorSpec]] = [[]]
    size = 0
    for s in specs:
        if shards[-1] and size + s.nbytes > max_shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(s)
        size += s.nbytes
    return shards if shards[0] else []


def split_shards(specs: Sequence[TensorSpec], n: int) -> list[list[TensorSpec]]:
    """Exactly ``n`` non-empty shards, in order, of roughly equal bytes."""
    if not 1 <= n <= len(specs):
        raise CheckpointError(f"cannot split {len(specs)} tensors into {n} shards")
    total = sum(s.nbytes for s in specs) or 1
    shards: list[list[TensorSpec]] = [[] for _ in range(n)]
    acc, prev = 0, 0
    for i, s in enumerate(specs):
        target = min(n - 1, acc * n // total)
        k = max(prev, target, n - (len(specs) - i))  # enough tensors left for the later shards
        k = 0 if i == 0 else min(k, prev + 1)        # never skip a shard
        shards[k].append(s)
        acc += s.nbytes
        prev = k
    return shards


class ShardWriter:
    """Writes a checkpoint's tensors, known in advance, shard by shard as they fill.

    Call ``write(name, tensor)`` or ``copy_from(name, reader)`` for every spec in order, then
    ``close()``: it writes ``model.safetensors.index.json`` (sorted weight_map, metadata.total_size)
    when there are several shards; a single shard is named ``model.safetensors``.
    """

    def __init__(self, directory: str | os.PathLike[str], shards: Sequence[Sequence[TensorSpec]],
                 metadata: Optional[Mapping[str, str]] = None) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.shards = [list(s) for s in shards if s]
        if not self.shards:
            raise CheckpointError("a checkpoint needs at least one tensor")
        n = len(self.shards)
        self.names = [SINGLE_FILE] if n == 1 else [shard_name(k + 1, n) for k in range(n)]
        self.metadata = dict(SHARD_METADATA if metadata is None else metadata)
        self.weight_map = {s.name: self.names[k] for k, shard in enumerate(self.shards) for s in shard}
        self.total_size = sum(s.nbytes for shard in self.shards for s in shard)
        self._order = [s.name for shard in self.shards for s in shard]
        self._ends = [sum(len(sh) for sh in self.shards[: k + 1]) for k in range(n)]
        self._pos = 0
        self._shard = -1
        self._writer: Optional[StreamWriter] = None
        self.written_files: list[Path] = []

    @classmethod
    def for_specs(cls, directory: str | os.PathLike[str], specs: Sequence[TensorSpec],
                  max_shard_bytes: int = DEFAULT_MAX_SHARD, num_shards: Optional[int] = None) -> "ShardWriter":
        shards = split_shards(specs, num_shards) if num_shards else plan_shards(specs, max_shard_bytes)
        return cls(directory, shards)

    def _writer_for(self, name: str) -> StreamWriter:
        if self._pos >= len(self._order) or self._order[self._pos] != name:
            expected = self._order[self._pos] if self._pos < len(self._order) else "nothing more"
            raise CheckpointError(f"expected tensor {expected!r} next, got {name!r}")
        if self._writer is None:
            self._shard += 1
            self._writer = StreamWriter(self.dir / self.names[self._shard], self.shards[self._shard], self.metadata)
        self._pos += 1
        return self._writer

    def _after_write(self) -> None:
        # A shard is closed as soon as its last tensor is in: it is complete on disk from then on.
        if self._pos == self._ends[self._shard]:
            self._finish_shard()

    def _finish_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self.written_files.append(self._writer.path)
            self._writer = None

    def write(self, name: str, tensor: torch.Tensor) -> None:
        self._writer_for(name).write(name, tensor)
        self._after_write()

    def copy_from(self, name: str, reader: TensorReader, source_name: Optional[str] = None) -> None:
        self._writer_for(name).copy_from(name, reader, source_name)
        self._after_write()

    def write_zeros(self, name: str) -> None:
        self._writer_for(name).write_zeros(name)
        self._after_write()

    def write_chunks(self, name: str, chunks: Iterable[torch.Tensor]) -> None:
        self._writer_for(name).write_chunks(name, chunks)
        self._after_write()

    def close(self) -> None:
        if self._pos != len(self._order):
            self.abort()
            raise CheckpointError(f"closed before tensor {self._order[self._pos]!r} was written")
        self._finish_shard()
        if len(self.shards) > 1:
            index = {"metadata": {"total_size": self.total_size},
                     "weight_map": dict(sorted(self.weight_map.items()))}
            (self.dir / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None


def is_weight_file(name: str) -> bool:
    return name.endswith(_WEIGHT_SUFFIXES) or bool(_WEIGHT_INDEXES.match(name))


def copy_extra_files(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[str]:
    """Copies the top-level files that are not weights or config.json (tokenizer, generation
    config, chat template, README, ...) and returns their names."""
    copied = []
    for p in sorted(Path(source).iterdir()):
        if p.name == CONFIG_FILE or is_weight_file(p.name) or p.is_dir():
            continue
        try:
            real = member_path(source, p.name)  # a symlink out of the checkpoint is refused
        except CheckpointError as err:
            if err.code in ("missing-shard", "not-a-file"):
                continue  # a dangling symlink, a FIFO, a socket: nothing to copy, nothing read
            raise
        shutil.copy2(real, Path(dest) / p.name)
        copied.append(p.name)
    return copied


def write_config(directory: str | os.PathLike[str], config: Mapping[str, Any]) -> None:
    (Path(directory) / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                               encoding="utf-8")


def save_state_dict(state: Mapping[str, torch.Tensor], directory: str | os.PathLike[str],
                    config: Optional[Mapping[str, Any]] = None, max_shard_bytes: int = DEFAULT_MAX_SHARD,
                    num_shards: Optional[int] = None) -> list[Path]:
    """Writes a whole checkpoint directory (tensors in the dict's order) and returns the weight files."""
    specs = [spec_of(k, v) for k, v in state.items()]
    w = ShardWriter.for_specs(directory, specs, max_shard_bytes, num_shards)
    try:
        for k, v in state.items():
            w.write(k, v)
        w.close()
    except BaseException:
        w.abort()
        raise
    if config is not None:
        write_config(directory, config)
    return w.written_files
