"""Checkpoint directories: sharded round trips (index format, shard names, metadata), lazy reads,
single-file output when small, copied side files, and clear errors for broken directories."""
from __future__ import annotations

import json
import unittest

import torch

from slayer_runner import safetensors_io as st
from slayer_runner.checkpoint import (INDEX_FILE, Checkpoint, CheckpointError, ShardWriter, copy_extra_files,
                                      load_state_dict, parse_size, plan_shards, save_state_dict, split_shards)
from tests.support import TempDirTest


def state(n: int = 6) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    sd = {"model.embed_tokens.weight": torch.randn(32, 8, generator=g).to(torch.bfloat16)}
    for i in range(n):
        sd[f"model.layers.{i}.mlp.down_proj.weight"] = torch.randn(8, 16, generator=g).to(torch.bfloat16)
        sd[f"model.layers.{i}.input_layernorm.weight"] = torch.randn(8, generator=g).to(torch.bfloat16)
    sd["lm_head.weight"] = torch.randn(32, 8, generator=g).to(torch.bfloat16)
    return sd


class Shards(TempDirTest):
    def test_sharded_round_trip_and_index(self) -> None:
        sd = state()
        files = save_state_dict(sd, self.dir / "c", config={"num_hidden_layers": 6}, max_shard_bytes=700)
        n = len(files)
        self.assertGreater(n, 2)
        self.assertEqual([f.name for f in files], [f"model-{k:05d}-of-{n:05d}.safetensors" for k in range(1, n + 1)])
        index = json.loads((self.dir / "c" / INDEX_FILE).read_text())
        self.assertEqual(index["metadata"]["total_size"], sum(v.numel() * 2 for v in sd.values()))
        self.assertEqual(list(index["weight_map"]), sorted(sd))
        for f in files:
            _infos, meta, _ = st.read_header(f)
            self.assertEqual(meta, {"format": "pt"})
            self.assertLessEqual(f.stat().st_size - _, 700)  # data bytes within the limit
        back = load_state_dict(self.dir / "c")
        self.assertEqual(list(back), list(sd))  # storage order = write order
        for k, v in sd.items():
            self.assertTrue(torch.equal(back[k], v), k)
            self.assertEqual(back[k].dtype, torch.bfloat16)

    def test_single_file_when_it_fits(self) -> None:
        save_state_dict(state(), self.dir / "c", config={})
        self.assertEqual(sorted(p.name for p in (self.dir / "c").iterdir()), ["config.json", "model.safetensors"])

    def test_exact_shard_count(self) -> None:
        files = save_state_dict(state(), self.dir / "c", num_shards=4)
        self.assertEqual(len(files), 4)
        specs = [st.TensorSpec(str(i), torch.float32, (1,)) for i in range(5)]
        for n in range(1, 6):
            shards = split_shards(specs, n)
            self.assertEqual(len(shards), n)
            self.assertTrue(all(shards))
            self.assertEqual([s.name for sh in shards for s in sh], [str(i) for i in range(5)])

    def test_plan_shards_greedy(self) -> None:
        specs = [st.TensorSpec(n, torch.uint8, (b,)) for n, b in (("a", 3), ("b", 3), ("c", 9), ("d", 1), ("e", 2))]
        self.assertEqual([[s.name for s in sh] for sh in plan_shards(specs, 6)], [["a", "b"], ["c"], ["d", "e"]])

    def test_lazy_reader_opens_shards_on_demand(self) -> None:
        save_state_dict(state(), self.dir / "c", config={"num_hidden_layers": 6}, num_shards=3)
        with Checkpoint(self.dir / "c") as ck:
            self.assertEqual(len(ck.files), 3)
            self.assertEqual(ck._readers, {})
            ck.get_tensor("lm_head.weight")
            self.assertEqual(list(ck._readers), ["model-00003-of-00003.safetensors"])
            self.assertEqual(ck.total_bytes, sum(v.numel() * 2 for v in state().values()))

    def test_writer_order_is_enforced(self) -> None:
        sd = state(1)
        w = ShardWriter.for_specs(self.dir / "c", [st.spec_of(k, v) for k, v in sd.items()])
        with self.assertRaisesRegex(CheckpointError, "expected tensor 'model.embed_tokens.weight' next"):
            w.write("lm_head.weight", sd["lm_head.weight"])
        w.write("model.embed_tokens.weight", sd["model.embed_tokens.weight"])
        with self.assertRaisesRegex(CheckpointError, "closed before"):
            w.close()

    def test_broken_directories(self) -> None:
        d = self.dir / "c"
        with self.assertRaisesRegex(CheckpointError, "not a directory"):
            Checkpoint(d)
        d.mkdir()
        with self.assertRaisesRegex(CheckpointError, "no config.json"):
            Checkpoint(d)
        (d / "config.json").write_text("{}")
        (d / "pytorch_model.bin").write_bytes(b"")
        with self.assertRaisesRegex(CheckpointError, "convert it to safetensors"):
            Checkpoint(d)
        (d / "pytorch_model.bin").unlink()
        save_state_dict(state(), d, num_shards=2)
        (d / "model-00002-of-00002.safetensors").unlink()
        with self.assertRaisesRegex(CheckpointError, "names shard 'model-00002-of-00002.safetensors', which does not exist"):
            Checkpoint(d)
        save_state_dict(state(), self.dir / "e", num_shards=2)
        index = json.loads((self.dir / "e" / INDEX_FILE).read_text())
        index["weight_map"]["ghost"] = "model-00001-of-00002.safetensors"
        (self.dir / "e" / INDEX_FILE).write_text(json.dumps(index))
        (self.dir / "e" / "config.json").write_text("{}")
        with self.assertRaisesRegex(CheckpointError, "maps tensor 'ghost'"):
            Checkpoint(self.dir / "e")

    def test_side_files_copied_weights_not(self) -> None:
        src, dst = self.dir / "s", self.dir / "d"
        src.mkdir()
        dst.mkdir()
        for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json",
                     "config.json", "model.safetensors", "pytorch_model.bin", "model.safetensors.index.json",
                     "pytorch_model.bin.index.json", "consolidated.00.pth"):
            (src / name).write_text(name)
        (src / "original").mkdir()
        self.assertEqual(copy_extra_files(src, dst), ["generation_config.json", "special_tokens_map.json",
                                                      "tokenizer.json", "tokenizer_config.json"])
        self.assertEqual((dst / "tokenizer.json").read_text(), "tokenizer.json")

    def test_parse_size(self) -> None:
        self.assertEqual(parse_size("5GB"), 5 * 10**9)
        self.assertEqual(parse_size("2GiB"), 2 * 2**30)
        self.assertEqual(parse_size("500mb"), 500 * 10**6)
        self.assertEqual(parse_size("1234"), 1234)
        with self.assertRaises(CheckpointError):
            parse_size("lots")


if __name__ == "__main__":
    unittest.main()
