"""Safetensors files, with or without the ``safetensors`` package.

The format: an 8-byte little-endian header length N, N bytes of JSON header
``{name: {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
(offsets relative to the byte buffer after the header, contiguous, in order, covering it exactly),
then the byte buffer (little-endian, row-major).

Reading goes one tensor at a time (seek + readinto; nothing else is loaded), through the
``safetensors`` package when it is importable and through our reader otherwise
(``SLAYER_SAFETENSORS=builtin`` forces ours). Writing is streaming: the header is written first
from the tensors' specs, then each tensor as it comes (or copied byte-for-byte from another file
with ``copy_file_range``), so a writer never holds more than one tensor. The package has no
streaming writer, so streaming writes always use ours; the bytes are the same format.
"""
from __future__ import annotations

import json
import math
import os
import stat
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Protocol

import torch

from .checkpoint_files import StrictJsonError, not_regular_file, parse_strict_json

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the reference implementation's limit

DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
for _name, _attr in (("F8_E4M3", "float8_e4m3fn"), ("F8_E5M2", "float8_e5m2"),
                     ("U16", "uint16"), ("U32", "uint32"), ("U64", "uint64")):
    if hasattr(torch, _attr):
        DTYPES[_name] = getattr(torch, _attr)
DTYPE_NAMES: dict[torch.dtype, str] = {v: k for k, v in DTYPES.items()}

if sys.byteorder != "little":  # the format is little-endian and we copy bytes as they are
    raise ImportError("slayer_runner.safetensors_io needs a little-endian machine")


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or a write that does not match its header. ``code`` is
    the TypeScript reader's code for the same problem (src/modelfiles/safetensors.ts)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def itemsize(dtype: torch.dtype) -> int:
    size = _ITEMSIZE.get(dtype)
    if size is None:
        size = _ITEMSIZE[dtype] = torch.empty((), dtype=dtype).element_size()
    return size


_ITEMSIZE: dict[torch.dtype, int] = {}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * itemsize(self.dtype)


@dataclass(frozen=True)
class TensorInfo:
    """A tensor's entry in a file's header; ``start`` is absolute (from the start of the file)."""
    name: str
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int
    nbytes: int


def backend() -> str:
    """``"safetensors"`` when the package is importable and not overridden, else ``"builtin"``."""
    if os.environ.get("SLAYER_SAFETENSORS", "").lower() == "builtin":
        return "builtin"
    try:
        import safetensors  # noqa: F401
    except ImportError:
        return "builtin"
    return "safetensors"


# ---------------------------------------------------------------------------------------------
# Header

MAX_SAFE_INT = 2**53 - 1  # what the TypeScript reader can hold exactly; no real file comes near it


def _open_regular(path: Path) -> int:
    """A descriptor of a regular file; a FIFO or device is refused without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise SafetensorsError(f"{path}: no such file", "missing-shard") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise SafetensorsError(f"{path}: {not_regular_file(st.st_mode)}", "not-a-file")
    os.set_blocking(fd, True)
    return fd


def _is_index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_SAFE_INT


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, TensorInfo], dict[str, str], int]:
    """Parses and checks a file's header: (tensors in file order, metadata, data start offset).

    The checks, their order and their codes are those of src/modelfiles/safetensors.ts, so both
    readers give one verdict on any file (tested on a shared corpus)."""
    path = Path(path)
    fd = _open_regular(path)
    try:
        size = os.fstat(fd).st_size
        first = os.pread(fd, 8, 0)
        if len(first) < 8:
            raise SafetensorsError(f"{path}: truncated: {len(first)} bytes, a safetensors file starts with "
                                   f"an 8-byte header length", "truncated")
        n = int.from_bytes(first, "little")
        if n > MAX_HEADER_BYTES:
            raise SafetensorsError(f"{path}: header length {n} is larger than the {MAX_HEADER_BYTES}-byte limit "
                                   f"(not a safetensors file, or corrupted)", "header-too-large")
        if 8 + n > size:
            raise SafetensorsError(f"{path}: header length {n} reaches beyond the end of the file ({size} bytes)",
                                   "header-beyond-file")
        if n < 2:
            raise SafetensorsError(f"{path}: header length {n} is too short for a JSON object", "invalid-json")
        raw = os.pread(fd, n, 8)
        if len(raw) < n:
            raise SafetensorsError(f"{path}: truncated: the file ended inside the header", "truncated")
    finally:
        os.close(fd)
    try:
        header = parse_strict_json(raw, integers_only=True)
    except StrictJsonError as err:
        raise SafetensorsError(f"{path}: header is {err}" if err.code != "non-integer" else f"{path}: {err}",
                               err.code) from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header JSON is not an object", "not-an-object")
    data_start = 8 + n
    meta: dict[str, str] = {}
    entries: list[TensorInfo] = []
    for name, e in header.items():
        if name == "__metadata__":
            if not isinstance(e, dict) or not all(isinstance(v, str) for v in e.values()):
                raise SafetensorsError(f"{path}: __metadata__ must map strings to strings", "bad-metadata")
            meta = dict(e)
            continue
        entries.append(_parse_entry(path, name, e, data_start))
    _check_layout(path, entries, data_start, size)
    return {i.name: i for i in entries}, meta, data_start


def _parse_entry(path: Path, name: str, e: Any, data_start: int) -> TensorInfo:
    where = f"{path}: tensor {name!r}"
    if not isinstance(e, dict):
        raise SafetensorsError(f"{where}: entry is not an object with dtype, shape and data_offsets", "bad-entry")
    if not isinstance(e.get("dtype"), str):
        raise SafetensorsError(f"{where}: dtype is missing or not a string", "bad-entry")
    dtype = DTYPES.get(e["dtype"])
    if dtype is None:
        raise SafetensorsError(f"{where}: unknown dtype {e['dtype'][:40]!r}", "unknown-dtype")
    shape, offs = e.get("shape"), e.get("data_offsets")
    if not isinstance(shape, list) or not all(_is_index(d) for d in shape):
        raise SafetensorsError(f"{where}: shape must be a list of non-negative integers", "bad-entry")
    if not isinstance(offs, list) or len(offs) != 2 or not all(_is_index(o) for o in offs):
        raise SafetensorsError(f"{where}: data_offsets must be [begin, end], two non-negative integers", "bad-entry")
    begin, end = offs
    if end < begin:
        raise SafetensorsError(f"{where}: data_offsets [{begin}, {end}] end before they begin", "out-of-range")
    size, numel = itemsize(dtype), 1
    for d in shape:  # checked dimension by dimension, as the TypeScript reader must
        numel *= d
        if numel * size > MAX_SAFE_INT:
            raise SafetensorsError(f"{where}: shape {shape} is too large", "size-mismatch")
    if numel * size != end - begin:
        raise SafetensorsError(f"{where}: shape {shape} of {e['dtype']} needs {numel * size} bytes, but "
                               f"data_offsets [{begin}, {end}] hold {end - begin}", "size-mismatch")
    return TensorInfo(name, dtype, tuple(shape), data_start + begin, end - begin)


def _check_layout(path: Path, entries: list[TensorInfo], data_start: int, size: int) -> None:
    """The tensors must tile the data exactly: no gap, no overlap, nothing past the file or after the last."""
    at, prev = data_start, None
    for info in sorted(entries, key=lambda i: (i.start, i.start + i.nbytes)):
        if info.start < at:
            raise SafetensorsError(f"{path}: tensors {prev.name!r} and {info.name!r} overlap", "overlap")  # type: ignore[union-attr]
        if info.start > at:
            raise SafetensorsError(f"{path}: bytes [{at - data_start}, {info.start - data_start}) of the data belong "
                                   f"to no tensor (before {info.name!r}): offsets are not contiguous", "gap")
        at, prev = info.start + info.nbytes, info
    if at > size:
        raise SafetensorsError(f"{path}: tensor {prev.name!r} ends at data byte {at - data_start}, but the file "  # type: ignore[union-attr]
                               f"holds only {size - data_start} bytes of data (truncated file?)", "out-of-range")
    if at < size:
        raise SafetensorsError(f"{path}: {size - at} bytes after the last tensor belong to no tensor", "trailing-bytes")


# ---------------------------------------------------------------------------------------------
# Reading

class TensorReader(Protocol):
    path: Path

    def keys(self) -> list[str]: ...
    def metadata(self) -> dict[str, str]: ...
    def info(self, name: str) -> TensorInfo: ...
    def get_tensor(self, name: str) -> torch.Tensor: ...
    def fileno(self) -> int: ...
    def close(self) -> None: ...


class _HeaderReader(ABC):
    """What both readers share: the header, parsed and checked by us once, and the lookups on it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._infos, self._meta, self.data_start = read_header(self.path)

    def keys(self) -> list[str]:
        return list(self._infos)

    def metadata(self) -> dict[str, str]:
        return dict(self._meta)

    def info(self, name: str) -> TensorInfo:
        try:
            return self._infos[name]
        except KeyError:
            raise KeyError(f"{self.path}: no tensor {name!r}") from None

    @abstractmethod
    def close(self) -> None:
        """Releases the file handles the backend holds."""

    def __enter__(self) -> "_HeaderReader":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class BuiltinReader(_HeaderReader):
    """Our reader: the header is parsed once, each tensor is read on demand into its own buffer."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path)
        self._file = open(self.path, "rb", buffering=0)

    def get_tensor(self, name: str) -> torch.Tensor:
        info = self.info(name)
        if info.nbytes == 0:
            return torch.empty(info.shape, dtype=info.dtype)
        buf = torch.empty(info.nbytes, dtype=torch.uint8)  # not zero-filled, unlike bytearray
        view = memoryview(buf.numpy()).cast("B")
        self._file.seek(info.start)
        got = 0
        while got < info.nbytes:
            n = self._file.readinto(view[got:])
            if not n:
                raise SafetensorsError(f"{self.path}: file ended inside tensor {name!r}")
            got += n
        return buf.view(info.dtype).reshape(info.shape)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


class PackageReader(_HeaderReader):
    """The ``safetensors`` package's lazy reader behind the same interface (header checks are ours too)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from safetensors import safe_open  # type: ignore[import-not-found]
        super().__init__(path)
        self._handle = safe_open(str(self.path), framework="pt")
        self._fd = -1

    def get_tensor(self, name: str) -> torch.Tensor:
        self.info(name)
        # clone: the package may hand back a view of its mmap; callers own what they get.
        return self._handle.get_tensor(name).clone()

    def fileno(self) -> int:
        # Raw byte copies go through a plain descriptor: the format is the same either way.
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_RDONLY)
        return self._fd

    def close(self) -> None:
        self._handle = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def open_reader(path: str | os.PathLike[str], which: Optional[str] = None) -> TensorReader:
    """A lazy reader of one file, through the backend ``backend()`` picks (or ``which``)."""
    return PackageReader(path) if (which or backend()) == "safetensors" else BuiltinReader(path)


def read_elements(reader: TensorReader, name: str, start: int, count: int,
                  into: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Elements [start, start+count) of a tensor in row-major order, as a 1-D tensor, read with one
    pread (for streaming over tensors too large to hold whole). ``into``: a uint8 buffer to reuse."""
    info = reader.info(name)
    size = itemsize(info.dtype)
    total = math.prod(info.shape)
    if start < 0 or count < 0 or start + count > total:
        raise IndexError(f"{name}: elements [{start}, {start + count}) outside 0..{total}")
    if into is not None and into.dtype == torch.uint8 and into.numel() >= count * size:
        buf = into[: count * size]
    else:
        buf = torch.empty(count * size, dtype=torch.uint8)
    view = memoryview(buf.numpy()).cast("B")
    fd, off, got = reader.fileno(), info.start + start * size, 0
    while got < len(view):
        n = os.preadv(fd, [view[got:]], off + got)
        if not n:
            raise SafetensorsError(f"{reader.path}: file ended inside tensor {name!r}")
        got += n
    return buf.view(info.dtype)


def load_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """All tensors of one file (for small files; large checkpoints go tensor by tensor)."""
    r = open_reader(path)
    try:
        return {k: r.get_tensor(k) for k in r.keys()}
    finally:
        r.close()


# ---------------------------------------------------------------------------------------------
# Writing

def tensor_bytes(t: torch.Tensor) -> memoryview:
    """The little-endian row-major bytes of a tensor, without a copy when it is contiguous on CPU."""
    t = t.detach().to("cpu").contiguous()
    if t.numel() == 0:
        return memoryview(b"")
    flat = t.reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return memoryview(flat.view(torch.uint8).numpy()).cast("B")


def _copy_range(src_fd: int, src_offset: int, dst_fd: int, nbytes: int) -> None:
    """Copies bytes file to file in the kernel when it can (no user-space buffer)."""
    left, off = nbytes, src_offset
    if hasattr(os, "copy_file_range"):
        try:
            while left > 0:
                n = os.copy_file_range(src_fd, dst_fd, min(left, 1 << 30), off)
                if n == 0:
                    raise SafetensorsError("source file ended during a copy")
                left -= n
                off += n
            return
        except OSError:
            pass  # e.g. across filesystems on old kernels: fall back to read/write
    while left > 0:
        chunk = os.pread(src_fd, min(left, 8 << 20), off)
        if not chunk:
            raise SafetensorsError("source file ended during a copy")
        os.write(dst_fd, chunk)
        left -= len(chunk)
        off += len(chunk)


class StreamWriter:
    """Writes one safetensors file: the header from ``specs`` first, then each tensor in that order.

    Memory: one tensor at a time. ``write`` takes a tensor; ``copy_from`` copies a tensor's bytes
    from another safetensors file unchanged. ``close`` checks everything was written.
    """

    def __init__(self, path: str | os.PathLike[str], specs: Iterable[TensorSpec],
                 metadata: Optional[Mapping[str, str]] = None) -> None:
        self.path = Path(path)
        self.specs = list(specs)
        names = [s.name for s in self.specs]
        if len(set(names)) != len(names):
            raise SafetensorsError(f"{self.path}: duplicate tensor names")
        header: dict[str, Any] = {}
        if metadata:
            header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
        pos = 0
        for s in self.specs:
            if s.dtype not in DTYPE_NAMES:
                raise SafetensorsError(f"{self.path}: dtype {s.dtype} cannot be stored")
            header[s.name] = {"dtype": DTYPE_NAMES[s.dtype], "shape": list(s.shape), "data_offsets": [pos, pos + s.nbytes]}
            pos += s.nbytes
        raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        raw += b" " * (-(8 + len(raw)) % 8)  # pad so the data starts 8-byte aligned
        self.total_bytes = pos
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(self._fd, len(raw).to_bytes(8, "little") + raw)
        self._next = 0

    def _expect(self, name: str) -> TensorSpec:
        if self._next >= len(self.specs):
            raise SafetensorsError(f"{self.path}: {name!r} written after the last tensor")
        spec = self.specs[self._next]
        if spec.name != name:
            raise SafetensorsError(f"{self.path}: expected tensor {spec.name!r} next, got {name!r}")
        self._next += 1
        return spec

    def write(self, name: str, tensor: torch.Tensor) -> None:
        spec = self._expect(name)
        if tensor.dtype != spec.dtype or tuple(tensor.shape) != spec.shape:
            raise SafetensorsError(f"{self.path}: {name!r} is {tensor.dtype} {tuple(tensor.shape)}, "
                                   f"the header says {spec.dtype} {spec.shape}")
        view = tensor_bytes(tensor)
        while len(view):
            n = os.write(self._fd, view)
            view = view[n:]

    def write_chunks(self, name: str, chunks: Iterable[torch.Tensor]) -> None:
        """A tensor given as consecutive 1-D pieces in row-major order (never whole in memory)."""
        spec = self._expect(name)
        written = 0
        for c in chunks:
            if c.dtype != spec.dtype:
                raise SafetensorsError(f"{self.path}: {name!r} piece is {c.dtype}, the header says {spec.dtype}")
            view = tensor_bytes(c)
            written += len(view)
            while len(view):
                n = os.write(self._fd, view)
                view = view[n:]
        if written != spec.nbytes:
            raise SafetensorsError(f"{self.path}: {name!r} got {written} bytes, the header says {spec.nbytes}")

    def write_zeros(self, name: str) -> None:
        """A tensor of zeros, as a hole in the file (sparse where the filesystem allows)."""
        spec = self._expect(name)
        os.lseek(self._fd, spec.nbytes, os.SEEK_CUR)

    def copy_from(self, name: str, reader: TensorReader, source_name: Optional[str] = None) -> None:
        spec = self._expect(name)
        info = reader.info(source_name or name)
        if info.dtype != spec.dtype or info.shape != spec.shape:
            raise SafetensorsError(f"{self.path}: {name!r} source is {info.dtype} {info.shape}, "
                                   f"the header says {spec.dtype} {spec.shape}")
        _copy_range(reader.fileno(), info.start, self._fd, info.nbytes)

    def close(self) -> None:
        if self._fd < 0:
            return
        fd, self._fd = self._fd, -1
        try:
            if self._next == len(self.specs):
                os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))  # a trailing hole still has a length
        finally:
            os.close(fd)
        if self._next != len(self.specs):
            missing = self.specs[self._next].name
            raise SafetensorsError(f"{self.path}: closed before tensor {missing!r} was written")

    def abort(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> "StreamWriter":
        return self

    def __exit__(self, exc_type: object, *_rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def spec_of(name: str, t: torch.Tensor) -> TensorSpec:
    return TensorSpec(name, t.dtype, tuple(t.shape))


def save_file(tensors: Mapping[str, torch.Tensor], path: str | os.PathLike[str],
              metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes a dict of tensors to one file, through the package when ``backend()`` picks it."""
    if backend() == "safetensors":
        from safetensors.torch import save_file as pkg_save  # type: ignore[import-not-found]
        pkg_save({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=dict(metadata or {}))
        return
    with StreamWriter(path, [spec_of(k, v) for k, v in tensors.items()], metadata) as w:
        for k, v in tensors.items():
            w.write(k, v)


def iter_file(path: str | os.PathLike[str]) -> Iterator[tuple[str, torch.Tensor]]:
    """Yields (name, tensor) one at a time, in file order."""
    r = open_reader(path)
    try:
        for k in r.keys():
            yield k, r.get_tensor(k)
    finally:
        r.close()
