"""Issue 14, runner side: checkpoints and files that try to make the runner read outside the
checkpoint (case 4), hang it on a FIFO or device (case 7), or crash it with a traceback (case 10).
Each is refused with a clear message naming the file, through the one rule in checkpoint_files.py,
by every reader (inspect, surgery, the model loader used by importance and training), within a
time and peak-RSS bound measured on the real process."""
from __future__ import annotations

import json
import os
import shutil
import unittest
from pathlib import Path

from slayer_runner.checkpoint import INDEX_FILE, Checkpoint, CheckpointError, copy_extra_files, load_state_dict
from slayer_runner.layermap import LayerMapError, load_layer_map
from slayer_runner.model import load_pretrained
from slayer_runner.safetensors_io import SafetensorsError, read_header

from .support import TempDirTest, layer_map, run_bounded, tiny, tree_hash

# Generous: Python + torch start in ~2-3 s on the shared machine; importing them is ~250 MB.
SECONDS = 300.0  # a bound on a hang: starting Python + torch took over 60 s on the loaded shared machine
RSS_MB = 600.0  # the command alone (run_bounded): importing torch is ~220 MB; catches "works but takes 2 GB"


def sharded(out: Path) -> Path:
    return tiny(out, num_layers=2, hidden_size=16, intermediate_size=24, num_heads=2, num_kv_heads=1,
                vocab_size=256, shards=2)


def rewrite_index(d: Path, change: dict[str, str]) -> None:
    index = json.loads((d / INDEX_FILE).read_text())
    for tensor in list(index["weight_map"]):
        if index["weight_map"][tensor] in change:
            index["weight_map"][tensor] = change[index["weight_map"][tensor]]
    (d / INDEX_FILE).write_text(json.dumps(index))


class OutsideTheCheckpoint(TempDirTest):
    """Case 4: an index naming an absolute path, ../, /etc/passwd, /dev/zero; symlinks leading out."""

    def code_of(self, d: Path) -> str:
        with self.assertRaises((CheckpointError, SafetensorsError)) as ctx:
            Checkpoint(d)
        return ctx.exception.code  # type: ignore[attr-defined]

    def test_index_names_outside_paths(self) -> None:
        # An outside file that IS a valid shard: reading it would succeed, which is the danger.
        outside = sharded(self.dir / "other")
        for name in ("/etc/passwd", "/dev/zero", str(outside / "model-00002-of-00002.safetensors"),
                     "../other/model-00002-of-00002.safetensors", "sub/../../other/model-00002-of-00002.safetensors",
                     "", "a\0b"):
            d = sharded(self.dir / f"c{abs(hash(name))}")
            rewrite_index(d, {"model-00002-of-00002.safetensors": name})
            with self.subTest(name=name):
                self.assertEqual(self.code_of(d), "bad-index")
                with self.assertRaisesRegex(CheckpointError, "is not a shard file name inside the checkpoint"):
                    Checkpoint(d)  # the reader importance and training load through: the same rule

    def test_symlinks_leading_out_are_refused(self) -> None:
        outside = sharded(self.dir / "other")
        for target in (outside / "model-00002-of-00002.safetensors", Path("/dev/zero"), Path("/etc/passwd")):
            d = sharded(self.dir / f"c{abs(hash(str(target)))}")
            shard = d / "model-00002-of-00002.safetensors"
            shard.unlink()
            shard.symlink_to(target)
            with self.subTest(target=str(target)):
                self.assertEqual(self.code_of(d), "outside-checkpoint")
        # A directory symlink inside the checkpoint that leads out counts the same.
        d = sharded(self.dir / "viadir")
        (d / "sub").symlink_to(outside)
        rewrite_index(d, {"model-00002-of-00002.safetensors": "sub/model-00002-of-00002.safetensors"})
        self.assertEqual(self.code_of(d), "outside-checkpoint")
        # config.json is read through the same rule.
        d = sharded(self.dir / "cfg")
        (d / "config.json").unlink()
        (d / "config.json").symlink_to(outside / "config.json")
        self.assertEqual(self.code_of(d), "outside-checkpoint")

    def test_symlinks_inside_and_hf_cache_snapshots_are_read(self) -> None:
        d = sharded(self.dir / "inside")
        (d / "blobs").mkdir()
        shard = d / "model-00001-of-00002.safetensors"
        shard.rename(d / "blobs" / "a")
        shard.symlink_to("blobs/a")
        self.assertEqual(len(load_state_dict(d)), len(load_state_dict(sharded(self.dir / "ref"))))
        # The Hugging Face cache: snapshots/REV/* are symlinks to ../../blobs/SHA.
        repo = self.dir / "hub" / "models--org--tiny"
        snap = repo / "snapshots" / "0123abc"
        snap.mkdir(parents=True)
        (repo / "blobs").mkdir()
        src = sharded(self.dir / "src")
        for i, p in enumerate(sorted(src.iterdir())):
            shutil.copy(p, repo / "blobs" / f"sha{i}")
            (snap / p.name).symlink_to(f"../../blobs/sha{i}")
        self.assertEqual(sorted(load_state_dict(snap)), sorted(load_state_dict(src)))
        # ... but not into another repository's blobs.
        other = self.dir / "hub" / "models--org--other" / "blobs"
        other.mkdir(parents=True)
        shutil.copy(src / "model-00001-of-00002.safetensors", other / "x")
        (snap / "model-00001-of-00002.safetensors").unlink()
        (snap / "model-00001-of-00002.safetensors").symlink_to(other / "x")
        self.assertEqual(self.code_of(snap), "outside-checkpoint")

    def test_extra_files_leading_out_are_not_copied(self) -> None:
        secret = self.dir / "secret.txt"
        secret.write_text("private key")
        d = sharded(self.dir / "c")
        (d / "tokenizer.json").symlink_to(secret)
        dest = self.dir / "dest"
        dest.mkdir()
        with self.assertRaises(CheckpointError) as ctx:
            copy_extra_files(d, dest)
        self.assertEqual(ctx.exception.code, "outside-checkpoint")
        self.assertFalse((dest / "tokenizer.json").exists())

    def test_surgery_refuses_and_writes_nothing(self) -> None:
        outside = sharded(self.dir / "other")
        d = sharded(self.dir / "c")
        rewrite_index(d, {"model-00002-of-00002.safetensors": str(outside / "model-00002-of-00002.safetensors")})
        lm = self.dir / "lm.json"
        lm.write_text(json.dumps(layer_map(d, [
            {"index": i, "role": "kept", "init": "copy", "sources": [{"layer": i, "weight": 1}], "zero": [],
             "trainable": False} for i in range(2)])))
        before = tree_hash(self.dir)
        r = run_bounded(["surgery", "--layer-map", str(lm), "--source", str(d), "--output", str(self.dir / "out")],
                        timeout=SECONDS)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is not a shard file name inside the checkpoint", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertEqual(tree_hash(self.dir), before)
        self.assertLess(r.peak_rss_mb, RSS_MB)


class NotRegularFiles(TempDirTest):
    """Case 7: FIFOs and devices as shards, index or config never block the runner."""

    def test_fifo_and_device_shards_are_refused_at_once(self) -> None:
        d = sharded(self.dir / "c")
        shard = d / "model-00002-of-00002.safetensors"
        shard.unlink()
        os.mkfifo(shard)
        r = run_bounded(["inspect", str(d)], timeout=SECONDS)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("a FIFO, not a regular file", r.stdout)
        self.assertLess(r.seconds, SECONDS)
        self.assertLess(r.peak_rss_mb, RSS_MB)
        with self.assertRaises(CheckpointError) as ctx:
            Checkpoint(d)
        self.assertEqual(ctx.exception.code, "not-a-file")
        # One file given directly: a FIFO, a device, a directory.
        for path in (shard, Path("/dev/zero"), d):
            with self.subTest(path=str(path)):
                with self.assertRaises(SafetensorsError) as ctx2:
                    read_header(path)
                self.assertEqual(ctx2.exception.code, "not-a-file")
        r = run_bounded(["inspect", "/dev/zero"], timeout=SECONDS)
        self.assertEqual((r.returncode, "not a regular file" in r.stdout), (1, True), r.stdout + r.stderr)

    def test_fifo_index_config_and_layer_map(self) -> None:
        for name in (INDEX_FILE, "config.json"):
            d = sharded(self.dir / name)
            (d / name).unlink()
            os.mkfifo(d / name)
            with self.subTest(name=name):
                with self.assertRaises(CheckpointError) as ctx:
                    Checkpoint(d)
                self.assertEqual(ctx.exception.code, "not-a-file")
        os.mkfifo(self.dir / "lm.json")
        with self.assertRaisesRegex(LayerMapError, "a FIFO, not a regular file"):
            load_layer_map(self.dir / "lm.json")

    def test_model_loader_refuses_a_fifo(self) -> None:
        d = sharded(self.dir / "c")
        (d / "model-00001-of-00002.safetensors").unlink()
        os.mkfifo(d / "model-00001-of-00002.safetensors")
        with self.assertRaises(CheckpointError):
            load_pretrained(d)


class Tracebacks(TempDirTest):
    """Case 10: inputs that gave raw tracebacks now give a message naming the file."""

    def test_index_in_invalid_utf8_or_with_a_list(self) -> None:
        for raw, why in ((b'{"weight_map": {"a": "\xff\xfe.safetensors"}}', "not valid UTF-8"),
                         (b'{"weight_map": ["model-00001-of-00002.safetensors"]}', 'no "weight_map" object'),
                         (b'{"weight_map": {"a": 1}}', "not a shard file name"),
                         (b"[" * 100_000, "nested deeper than 64"),
                         (b'{"weight_map": {"a": "x"}, "metadata": {"total_size": NaN}}', "NaN is not a JSON value")):
            d = sharded(self.dir / f"c{len(raw)}{abs(hash(raw))}")
            (d / INDEX_FILE).write_bytes(raw)
            with self.subTest(raw=raw[:40]):
                with self.assertRaises(CheckpointError) as ctx:
                    Checkpoint(d)
                self.assertEqual(ctx.exception.code, "bad-index")
                self.assertIn(why, str(ctx.exception))
                self.assertIn(str(d / INDEX_FILE), str(ctx.exception))

    def test_header_and_layer_map_of_100000_brackets(self) -> None:
        d = self.dir / "c"
        d.mkdir()
        body = b"[" * 100_000
        (d / "model.safetensors").write_bytes(len(body).to_bytes(8, "little") + body)
        (d / "config.json").write_text("{}")
        r = run_bounded(["inspect", str(d)], timeout=SECONDS)
        self.assertEqual(r.returncode, 1)
        self.assertIn("header is not valid JSON", r.stdout)
        self.assertNotIn("Traceback", r.stdout + r.stderr)
        self.assertLess(r.peak_rss_mb, RSS_MB)
        closed = b"[" * 100_000 + b"]" * 100_000  # valid JSON, too deep for Python's parser
        (d / "model.safetensors").write_bytes(len(closed).to_bytes(8, "little") + closed)
        with self.assertRaises(SafetensorsError) as ctx:
            read_header(d / "model.safetensors")
        self.assertEqual(ctx.exception.code, "invalid-json")
        (self.dir / "lm.json").write_bytes(body)
        src = sharded(self.dir / "src")
        r = run_bounded(["surgery", "--layer-map", str(self.dir / "lm.json"), "--source", str(src),
                         "--output", str(self.dir / "out")], timeout=SECONDS)
        self.assertEqual(r.returncode, 1)
        self.assertIn("lm.json: not valid JSON (nested deeper than 64 levels)", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertFalse((self.dir / "out").exists())


class LargeHeaders(TempDirTest):
    def test_a_7_mb_header_of_100000_tensors_stays_bounded(self) -> None:
        """Valid but absurd: parsed, checked and listed in bounded time and memory (the limit is
        the reference's 100 MiB; docs/runner.md, Limits, gives what a full-size one costs)."""
        d = self.dir / "c"
        d.mkdir()
        (d / "config.json").write_text("{}")
        entries = ",".join(f'"t{i}":{{"dtype":"U8","shape":[1],"data_offsets":[{i},{i + 1}]}}' for i in range(100_000))
        raw = ("{" + entries + "}").encode()
        self.assertGreater(len(raw), 6_000_000)
        (d / "model.safetensors").write_bytes(len(raw).to_bytes(8, "little") + raw + b"\0" * 100_000)
        r = run_bounded(["inspect", str(d), "--json"], timeout=SECONDS)
        self.assertEqual(r.returncode, 1, r.stderr)  # the tensors are not a Llama model: reported, not crashed
        self.assertEqual(len(json.loads(r.stdout)["tensors"]), 100_000)
        self.assertLess(r.peak_rss_mb, 1500)


if __name__ == "__main__":
    unittest.main()
