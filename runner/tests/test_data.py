"""Data: token files (uint16/uint32/.npy, memory-mapped), byte-level text, SFT prompt masking,
weighted mixtures, deterministic and resumable positions, the bundled sample text."""
from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import unittest

import numpy as np
import torch

from slayer_runner import data as D


class Tokenizing(unittest.TestCase):
    def test_byte_tokenizer_round_trips_utf8_and_needs_256_ids(self) -> None:
        tok = D.ByteTokenizer(300)
        ids = tok.encode("tide ✓ é")
        self.assertEqual(ids[:4], [116, 105, 100, 101])
        self.assertEqual(tok.decode(ids), "tide ✓ é")
        self.assertEqual(tok.eos_id, 257)
        self.assertIsNone(D.ByteTokenizer(257).eos_id)
        with self.assertRaisesRegex(D.DataError, "at least 256"):
            D.ByteTokenizer(200)

    def test_without_a_tokenizer_library_the_byte_tokenizer_is_used(self) -> None:
        self.assertIsInstance(D.load_tokenizer(None, 512), D.ByteTokenizer)
        with tempfile.TemporaryDirectory() as d:  # a tiny checkpoint's description names its EOS
            with open(os.path.join(d, "slayer_tokenizer.json"), "w") as f:
                json.dump({"type": "bytes", "eos_token_id": None}, f)
            tok = D.load_tokenizer(d, 512)
            self.assertIsInstance(tok, D.ByteTokenizer)
            self.assertIsNone(tok.eos_id)
        if importlib.util.find_spec("tokenizers") or importlib.util.find_spec("transformers"):
            return  # the library would read the file; the case below is a host without one
        with tempfile.TemporaryDirectory() as d:  # a real model's tokenizer that nothing here can read
            with open(os.path.join(d, "tokenizer.json"), "w") as f:
                f.write("{}")
            tok = D.load_tokenizer(d, 32000)
            self.assertIsInstance(tok, D.MissingTokenizer)
            with self.assertRaisesRegex(D.DataError, "pre-tokenized"):
                D.read_tokens(str(D.SAMPLE_TEXT), tok, 32000)

    def test_bundled_sample_is_plain_text_of_the_right_size(self) -> None:
        text = D.SAMPLE_TEXT.read_text(encoding="utf-8")
        self.assertTrue(50_000 <= len(text.encode()) <= 100_000)
        self.assertEqual(D.resolve_data("sample", {}), str(D.SAMPLE_TEXT))
        with self.assertRaisesRegex(D.DataError, "no file"):
            D.resolve_data("nope", {})


class TokenFiles(unittest.TestCase):
    def test_uint16_uint32_and_npy_files_are_memory_mapped_with_the_right_dtype(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            toks = np.arange(1000, dtype=np.uint32) * 70
            np.asarray(toks % 65536, dtype=np.uint16).tofile(os.path.join(d, "a.u16"))
            toks.tofile(os.path.join(d, "a.u32"))
            np.save(os.path.join(d, "a.npy"), toks)
            a16 = D.read_token_file(os.path.join(d, "a.u16"), 65536)
            a32 = D.read_token_file(os.path.join(d, "a.u32"), 100_000)
            anp = D.read_token_file(os.path.join(d, "a.npy"), 100_000)
            self.assertIsInstance(a16, np.memmap)
            self.assertEqual(a16.dtype, np.uint16)
            self.assertEqual(int(a32[999]), 69930)
            self.assertEqual(int(anp[999]), 69930)
            with open(os.path.join(d, "odd.u32"), "wb") as f:
                f.write(b"\0" * 7)
            with self.assertRaisesRegex(D.DataError, "whole number"):
                D.read_token_file(os.path.join(d, "odd.u32"), 100)

    def test_packed_windows_predict_the_next_token_and_out_of_vocab_ids_are_refused(self) -> None:
        toks = np.arange(101, dtype=np.uint16)
        s = D.PackedStream(toks, 10, seed=0, vocab_size=200)
        self.assertEqual(s.windows, 10)
        b = s.take(3)
        torch.testing.assert_close(b.inputs[:, 1:], b.labels[:, :-1])
        torch.testing.assert_close(b.labels - b.inputs, torch.ones(3, 10, dtype=torch.int64))
        self.assertTrue(all(int(r[0]) % 10 == 0 for r in b.inputs))
        small = D.PackedStream(toks, 10, seed=0, vocab_size=50)
        with self.assertRaisesRegex(D.DataError, "vocabulary"):
            small.take(10)


class Positions(unittest.TestCase):
    def test_an_epoch_visits_every_window_once_in_a_seeded_order(self) -> None:
        toks = np.arange(201, dtype=np.uint16)
        s = D.PackedStream(toks, 10, seed=5, vocab_size=300)
        firsts = sorted(int(r[0]) for r in s.take(20).inputs)
        self.assertEqual(firsts, list(range(0, 200, 10)))
        again = D.PackedStream(toks, 10, seed=5, vocab_size=300).take(20).inputs
        other = D.PackedStream(toks, 10, seed=6, vocab_size=300).take(20).inputs
        s2 = D.PackedStream(toks, 10, seed=5, vocab_size=300)
        torch.testing.assert_close(s2.take(20).inputs, again)
        self.assertFalse(torch.equal(again, other))

    def test_restored_position_continues_exactly_across_epochs_and_mixtures(self) -> None:
        def make() -> D.Mixture:
            a = D.PackedStream(np.arange(95, dtype=np.uint16), 8, seed=1, vocab_size=300)
            b = D.PackedStream(np.arange(100, 171, dtype=np.uint16), 8, seed=2, vocab_size=300)
            return D.Mixture([(5.0, a), (2.0, b)])

        ref = make()
        ref.take(17)
        want = ref.take(40).inputs  # crosses epoch boundaries of both sources
        m = make()
        m.take(17)
        state = json.loads(json.dumps(m.state_dict()))  # what a checkpoint stores
        restored = make()
        restored.load_state_dict(state)
        torch.testing.assert_close(restored.take(40).inputs, want)

    def test_mixture_shares_follow_the_weights(self) -> None:
        a = D.PackedStream(np.zeros(1001, dtype=np.uint16), 10, seed=1, vocab_size=300)
        b = D.PackedStream(np.ones(1001, dtype=np.uint16), 10, seed=2, vocab_size=300)
        got = D.Mixture([(5.0, a), (2.0, b)]).take(70).inputs[:, 0]
        self.assertEqual(int((got == 0).sum()), 50)
        self.assertEqual(int((got == 1).sum()), 20)


class SFT(unittest.TestCase):
    def test_loss_is_masked_on_the_prompt_and_the_padding(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "sft.jsonl")
            with open(p, "w") as f:
                f.write(json.dumps({"prompt": "Q: tide?", "response": " A: high"}) + "\n")
                f.write(json.dumps({"prompt_ids": [1, 2, 3], "response_ids": [4, 5]}) + "\n")
            tok = D.ByteTokenizer(300)
            ex = D.read_sft(p, tok)
            self.assertEqual(ex[1], ([1, 2, 3], [4, 5, 257]))
            s = D.SFTStream(ex, 32, seed=0, vocab_size=300, pad_id=257)
            inputs, labels = s.encode(1)
            self.assertEqual(inputs[:5], [1, 2, 3, 4, 5])
            # positions 0,1 predict prompt tokens 2,3: no loss; 2,3,4 predict 4,5,eos
            self.assertEqual(labels[:6], [D.IGNORE, D.IGNORE, 4, 5, 257, D.IGNORE])
            self.assertEqual(len(inputs), 32)
            inputs, labels = s.encode(0)
            prompt_len = len("Q: tide?")
            self.assertTrue(all(x == D.IGNORE for x in labels[: prompt_len - 1]))
            self.assertEqual(bytes(labels[prompt_len - 1: prompt_len + 7]).decode(), " A: high")
            b = s.take(2)
            self.assertEqual(b.target_tokens, 3 + 9)

    def test_bad_sft_lines_name_the_line(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "bad.jsonl")
            with open(p, "w") as f:
                f.write('{"prompt": "x", "response": "y"}\n{"question": "x"}\n')
            with self.assertRaisesRegex(D.DataError, "bad.jsonl:2"):
                D.read_sft(p, D.ByteTokenizer(300))


class StageData(unittest.TestCase):
    def test_text_and_calibration_from_the_bundled_sample(self) -> None:
        mix, epoch_tokens = D.open_stage_data("cpt", [{"name": "sample", "weight": 1}], {}, D.ByteTokenizer(256), 256, 64, 0)
        size = len(D.SAMPLE_TEXT.read_bytes())
        self.assertEqual(epoch_tokens, (size - 1) // 64 * 64)
        b = mix.take(4)
        self.assertEqual(tuple(b.inputs.shape), (4, 64))
        cal = D.calibration_batch(str(D.SAMPLE_TEXT), D.ByteTokenizer(256), 256, 32, 5)
        self.assertEqual(bytes(cal[0].tolist()), D.SAMPLE_TEXT.read_bytes()[:32])
        self.assertEqual(tuple(cal.shape), (5, 32))


if __name__ == "__main__":
    unittest.main()
