"""Our safetensors reader/writer: round trips in every dtype, bytes checked against torch's own
view of the raw buffer (independent of our reader), header validation, backend selection."""
from __future__ import annotations

import json
import os
import struct
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import torch

from slayer_runner import safetensors_io as st
from tests.support import TempDirTest


def sample_tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "a.bf16": torch.randn(3, 5, generator=g).to(torch.bfloat16),
        "b.f16": torch.randn(7, generator=g).to(torch.float16),
        "c.f32": torch.randn(2, 3, 4, generator=g),
        "d.f64": torch.randn(2, generator=g, dtype=torch.float64),
        "e.i64": torch.arange(-3, 3, dtype=torch.int64),
        "f.i32": torch.tensor([[1, -2], [3, 2**31 - 1]], dtype=torch.int32),
        "g.i16": torch.tensor([-7, 9], dtype=torch.int16),
        "h.i8": torch.tensor([-128, 127], dtype=torch.int8),
        "i.u8": torch.tensor([0, 255, 3], dtype=torch.uint8),
        "j.bool": torch.tensor([True, False, True]),
        "k.scalar": torch.tensor(2.5, dtype=torch.bfloat16),
        "l.empty": torch.empty(0, 4, dtype=torch.float16),
    }


def write_raw(path: Path, header: object, data: bytes, header_len: int | None = None) -> None:
    raw = json.dumps(header).encode() if not isinstance(header, bytes) else header
    n = len(raw) if header_len is None else header_len
    path.write_bytes(struct.pack("<Q", n) + raw + data)


class RoundTrip(TempDirTest):
    def setUp(self) -> None:
        super().setUp()
        patcher = mock.patch.dict(os.environ, {"SLAYER_SAFETENSORS": "builtin"})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_every_dtype_reads_back_exactly(self) -> None:
        tensors = sample_tensors()
        path = self.dir / "x.safetensors"
        st.save_file(tensors, path, {"format": "pt"})
        r = st.open_reader(path)
        self.assertIsInstance(r, st.BuiltinReader)
        self.assertEqual(r.keys(), list(tensors))
        self.assertEqual(r.metadata(), {"format": "pt"})
        for k, t in tensors.items():
            got = r.get_tensor(k)
            self.assertEqual(got.dtype, t.dtype, k)
            self.assertEqual(got.shape, t.shape, k)
            self.assertTrue(torch.equal(got, t), k)
        r.close()

    def test_bytes_match_torchs_view_of_the_raw_buffer(self) -> None:
        # Independent of our reader: parse the header with json, take the bytes with a plain read,
        # and let torch interpret them.
        tensors = sample_tensors()
        path = self.dir / "x.safetensors"
        st.save_file(tensors, path)
        blob = path.read_bytes()
        n = struct.unpack("<Q", blob[:8])[0]
        self.assertEqual((8 + n) % 8, 0, "data starts 8-byte aligned")
        header = json.loads(blob[8:8 + n])
        data = blob[8 + n:]
        names = {v: k for k, v in st.DTYPES.items()}
        for k, t in tensors.items():
            e = header[k]
            self.assertEqual(e["dtype"], names[t.dtype])
            self.assertEqual(e["shape"], list(t.shape))
            b, end = e["data_offsets"]
            raw = bytearray(data[b:end])
            if t.numel():
                viewed = torch.frombuffer(raw, dtype=torch.uint8)
                expected = t.reshape(-1).to(torch.uint8) if t.dtype == torch.bool else t.reshape(-1).view(torch.uint8)
                self.assertTrue(torch.equal(viewed, expected), k)
                if t.dtype != torch.bool:
                    self.assertTrue(torch.equal(torch.frombuffer(raw, dtype=t.dtype).reshape(t.shape), t), k)
            else:
                self.assertEqual(b, end)
        self.assertEqual(max(e["data_offsets"][1] for e in header.values()), len(data))

    def test_bf16_known_bytes(self) -> None:
        path = self.dir / "x.safetensors"
        st.save_file({"w": torch.tensor([1.0, -2.0], dtype=torch.bfloat16)}, path)
        self.assertTrue(path.read_bytes().endswith(bytes([0x80, 0x3F, 0x00, 0xC0])))

    def test_stream_writer_and_raw_copy(self) -> None:
        tensors = sample_tensors()
        src = self.dir / "src.safetensors"
        st.save_file(tensors, src)
        reader = st.open_reader(src)
        dst = self.dir / "dst.safetensors"
        specs = [st.TensorSpec(k, t.dtype, tuple(t.shape)) for k, t in reversed(tensors.items())]
        with st.StreamWriter(dst, specs, {"format": "pt"}) as w:
            for s in specs:
                if s.name.startswith(("a", "c")):
                    w.write(s.name, tensors[s.name])
                else:
                    w.copy_from(s.name, reader)
        reader.close()
        self.assertEqual(list(st.load_file(dst)), [s.name for s in specs])
        for k, t in st.load_file(dst).items():
            self.assertTrue(torch.equal(t, tensors[k]), k)

    def test_stream_writer_checks_order_shape_and_completeness(self) -> None:
        spec = [st.TensorSpec("a", torch.float32, (2,)), st.TensorSpec("b", torch.float32, (2,))]
        w = st.StreamWriter(self.dir / "o.safetensors", spec)
        with self.assertRaisesRegex(st.SafetensorsError, "expected tensor 'a' next"):
            w.write("b", torch.zeros(2))
        w2 = st.StreamWriter(self.dir / "p.safetensors", spec)
        with self.assertRaisesRegex(st.SafetensorsError, "header says"):
            w2.write("a", torch.zeros(3))
        w3 = st.StreamWriter(self.dir / "q.safetensors", spec)
        w3.write("a", torch.zeros(2))
        with self.assertRaisesRegex(st.SafetensorsError, "closed before tensor 'b'"):
            w3.close()
        w.abort()
        w2.abort()

    def test_zeros_are_holes_even_at_the_end(self) -> None:
        specs = [st.TensorSpec("z1", torch.bfloat16, (4096,)), st.TensorSpec("x", torch.float32, (3,)),
                 st.TensorSpec("z2", torch.float16, (5000,))]
        path = self.dir / "z.safetensors"
        with st.StreamWriter(path, specs) as w:
            w.write_zeros("z1")
            w.write("x", torch.tensor([1.0, 2.0, 3.0]))
            w.write_zeros("z2")
        got = st.load_file(path)  # also checks the file length against the header
        self.assertTrue(torch.equal(got["z1"], torch.zeros(4096, dtype=torch.bfloat16)))
        self.assertTrue(torch.equal(got["z2"], torch.zeros(5000, dtype=torch.float16)))
        self.assertTrue(torch.equal(got["x"], torch.tensor([1.0, 2.0, 3.0])))

    def test_iter_file_is_lazy_in_order(self) -> None:
        tensors = sample_tensors()
        path = self.dir / "x.safetensors"
        st.save_file(tensors, path)
        self.assertEqual([k for k, _ in st.iter_file(path)], list(tensors))


class HeaderValidation(TempDirTest):
    def setUp(self) -> None:
        super().setUp()
        self.path = self.dir / "bad.safetensors"

    def check(self, code: str) -> None:
        # The codes are the TypeScript reader's (src/modelfiles/safetensors.ts): one vocabulary.
        with self.assertRaises(st.SafetensorsError) as ctx:
            st.read_header(self.path)
        self.assertEqual(ctx.exception.code, code, str(ctx.exception))
        self.assertIn(str(self.path), str(ctx.exception))

    def test_errors(self) -> None:
        f32 = lambda offs, shape=(2,): {"dtype": "F32", "shape": list(shape), "data_offsets": offs}  # noqa: E731
        self.path.write_bytes(b"\x01\x02")
        self.check("truncated")
        write_raw(self.path, {}, b"", header_len=1 << 40)
        self.check("header-too-large")
        write_raw(self.path, {}, b"", header_len=500)
        self.check("header-beyond-file")
        write_raw(self.path, b"\xff\xfe{", b"")
        self.check("invalid-utf8")
        write_raw(self.path, b"{", b"")
        self.check("invalid-json")
        write_raw(self.path, [1, 2], b"")
        self.check("not-an-object")
        write_raw(self.path, {"x": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}, b"\0")
        self.check("unknown-dtype")
        write_raw(self.path, {"x": f32([0, 8], shape=(-2,))}, b"\0" * 8)
        self.check("bad-entry")
        write_raw(self.path, {"x": f32([8, 0])}, b"\0" * 8)
        self.check("out-of-range")
        write_raw(self.path, {"x": f32([0, 12])}, b"\0" * 12)
        self.check("size-mismatch")
        write_raw(self.path, {"x": f32([0, 8]), "y": f32([12, 20])}, b"\0" * 20)
        self.check("gap")
        write_raw(self.path, {"x": f32([0, 8]), "y": f32([4, 12])}, b"\0" * 12)
        self.check("overlap")
        write_raw(self.path, {"x": f32([0, 8])}, b"\0" * 9)
        self.check("trailing-bytes")
        write_raw(self.path, {"x": f32([0, 8])}, b"\0" * 7)
        self.check("out-of-range")
        write_raw(self.path, {"x": f32([0, 8]), "__metadata__": {"a": 1}}, b"\0" * 8)
        self.check("bad-metadata")
        write_raw(self.path, {"x": f32([0, 8]), "__metadata__": {"format": "pt"}}, b"\0" * 8)
        infos, meta, start = st.read_header(self.path)
        self.assertEqual((list(infos), meta), (["x"], {"format": "pt"}))
        self.assertEqual(infos["x"].start, start)


class Backend(unittest.TestCase):
    def test_selection(self) -> None:
        try:
            import safetensors  # noqa: F401
            have = True
        except ImportError:
            have = False
        with mock.patch.dict(os.environ, {"SLAYER_SAFETENSORS": "builtin"}):
            self.assertEqual(st.backend(), "builtin")
        with mock.patch.dict(os.environ, {"SLAYER_SAFETENSORS": ""}):
            self.assertEqual(st.backend(), "safetensors" if have else "builtin")

    def test_package_and_builtin_agree_when_the_package_exists(self) -> None:
        try:
            import safetensors.torch  # noqa: F401
        except ImportError:
            self.skipTest("the safetensors package is not installed here")
        with tempfile.TemporaryDirectory() as d:
            tensors = sample_tensors()
            del tensors["l.empty"]
            p = Path(d) / "x.safetensors"
            with mock.patch.dict(os.environ, {"SLAYER_SAFETENSORS": "builtin"}):
                st.save_file(tensors, p)
            r = st.open_reader(p, "safetensors")
            for k, t in tensors.items():
                self.assertTrue(torch.equal(r.get_tensor(k), t), k)
            q = Path(d) / "y.safetensors"
            from safetensors.torch import save_file
            save_file(tensors, str(q))
            b = st.BuiltinReader(q)
            for k, t in tensors.items():
                self.assertTrue(torch.equal(b.get_tensor(k), t), k)


if __name__ == "__main__":
    unittest.main()
