"""Issue 14 case 9: make-tiny and surgery write nothing until the request is known to be good,
never leave a complete-looking partial checkpoint, never write into a non-empty directory, and
replace only what is recognisably a checkpoint (anything else needs --force). Leftovers of a
SIGKILLed writer are cleaned by the next run to the same output; an old output whose replacement
never arrived is put back."""
from __future__ import annotations

import json
import subprocess
import unittest
from pathlib import Path

from slayer_runner.modelconfig import read_config as load_config
from slayer_runner.outputs import is_checkpoint_dir, remove_stale
from slayer_runner.tiny import make_tiny

from .support import TempDirTest, layer_map, run_bounded, tiny, tree_hash

SMALL = ["--layers", "2", "--hidden", "16", "--intermediate", "24", "--heads", "2", "--kv-heads", "1"]


def dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


class MakeTiny(TempDirTest):
    def test_bad_arguments_are_refused_before_anything_is_written(self) -> None:
        out = self.dir / "m"
        # The original cases, as the process a user runs.
        for args, why in ((["--vocab", "10"], "vocab_size must be at least 256"),
                          (["--layers", "-3"], "num_layers must be an integer from 1"),
                          (["--layers", "0"], "num_layers must be an integer from 1"),
                          (["--hidden", "0"], "hidden_size must be an integer from 1")):
            with self.subTest(args=args):
                r = run_bounded(["make-tiny", "--output", str(out), *SMALL, *args], timeout=300)
                self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
                self.assertIn(why, r.stdout)
                self.assertNotIn("Traceback", r.stdout + r.stderr)
                self.assertEqual(list(self.dir.iterdir()), [], "nothing written, no leftovers")
                self.assertLess(r.peak_rss_mb, 100)  # refused before torch is imported (that alone is ~220 MB)
        base = {"num_layers": 2, "hidden_size": 16, "intermediate_size": 24, "num_heads": 2, "num_kv_heads": 1}
        for spec, why in (({"num_heads": 0}, "num_heads must be an integer from 1"),
                          ({"shards": 0}, "shards must be an integer from 1"),
                          ({"shards": 999}, "shards must be at most the number of tensors"),
                          ({"num_layers": True}, "num_layers must be an integer"),
                          ({"num_layers": 99999999}, "num_layers must be an integer from 1 to 4096"),
                          ({"hidden_size": 1_000_000, "num_heads": 1, "num_kv_heads": 1, "vocab_size": 1 << 20},
                           "free")):
            with self.subTest(spec=spec):
                with self.assertRaisesRegex(ValueError, why):
                    make_tiny({**base, **spec}, out)
                self.assertEqual(list(self.dir.iterdir()), [])

    def test_only_a_new_or_empty_directory(self) -> None:
        out = self.dir / "m"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        before = tree_hash(self.dir)
        r = run_bounded(["make-tiny", "--output", str(out), *SMALL], timeout=300)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already exists and is not empty", r.stdout)
        self.assertEqual(tree_hash(self.dir), before)
        (out / "notes.txt").unlink()
        make_tiny({"num_layers": 2, "hidden_size": 16, "intermediate_size": 24, "num_heads": 2, "num_kv_heads": 1},
                  out)  # an empty directory is fine
        self.assertTrue(is_checkpoint_dir(out))
        self.assertEqual([p.name for p in self.dir.iterdir()], ["m"])

    def test_a_failure_while_writing_leaves_nothing(self) -> None:
        out = self.dir / "m"
        with self.assertRaises(TypeError):  # fails inside the write loop, after some shards exist
            make_tiny({"num_layers": 2, "hidden_size": 16, "intermediate_size": 24, "num_heads": 2,
                       "num_kv_heads": 1, "shards": 3, "rope_theta": object()}, out)
        self.assertEqual(list(self.dir.iterdir()), [])


class SurgeryOutputs(TempDirTest):
    def setUp(self) -> None:
        super().setUp()
        self.src = tiny(self.dir / "src", num_layers=2, hidden_size=16, intermediate_size=24, num_heads=2,
                        num_kv_heads=1)
        self.lm = self.dir / "lm.json"
        self.lm.write_text(json.dumps(layer_map(self.src, [
            {"index": i, "role": "kept", "init": "copy", "sources": [{"layer": i, "weight": 1}], "zero": [],
             "trainable": False} for i in range(2)])))

    def surgery(self, out: Path, *flags: str) -> "run_bounded":  # type: ignore[valid-type]
        return run_bounded(["surgery", "--layer-map", str(self.lm), "--source", str(self.src), "--output", str(out),
                            *flags], timeout=300)

    def test_overwrite_replaces_only_a_checkpoint(self) -> None:
        home = self.dir / "home"  # the original case: any directory was deleted with --overwrite
        (home / "projects").mkdir(parents=True)
        (home / "projects" / "thesis.tex").write_text("years of work")
        (home / "config.json").write_text("{}")
        before = tree_hash(home)
        r = self.surgery(home, "--overwrite")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is not a checkpoint directory", r.stderr)
        self.assertIn("--force", r.stderr)
        self.assertEqual(tree_hash(home), before)
        self.assertLess(r.peak_rss_mb, 600)  # the command alone; importing torch is ~220 MB
        r = self.surgery(home, "--force")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse((home / "projects").exists())
        self.assertTrue(is_checkpoint_dir(home))
        r = self.surgery(home, "--overwrite")  # now it is a checkpoint
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(p.name for p in self.dir.iterdir()), ["home", "lm.json", "src"])
        file_out = self.dir / "afile"
        file_out.write_text("x")
        r = self.surgery(file_out, "--force")
        self.assertEqual(r.returncode, 1)
        self.assertIn("exists and is not a directory", r.stderr)

    def test_stale_old_outputs_are_cleaned_or_restored(self) -> None:
        out = self.dir / "out"
        self.assertEqual(self.surgery(out).returncode, 0)
        pid = dead_pid()
        # Killed after the new output was in place: the old one is garbage.
        garbage = self.dir / f".out.slayer-old-{pid}-0123abcd"
        garbage.mkdir()
        (garbage / "config.json").write_text("{}")
        # Killed between the two renames: the old output is the only copy and comes back.
        lost = self.dir / f".gone.slayer-old-{pid}-89abcdef"
        (self.src / "config.json").read_text()
        tiny(lost, num_layers=2, hidden_size=16, intermediate_size=24, num_heads=2, num_kv_heads=1)
        legacy = self.dir / ".out.slayer-old-0badc0de"  # named by earlier versions, without a PID
        legacy.mkdir()
        self.assertEqual(remove_stale(out), [legacy, garbage])
        self.assertEqual(remove_stale(self.dir / "gone"), [])
        self.assertEqual(load_config(self.dir / "gone")["num_hidden_layers"], 2)
        self.assertFalse(lost.exists())
        # The next surgery does this itself.
        stale = self.dir / f".out.slayer-old-{pid}-fedcba98"
        stale.mkdir()
        r = self.surgery(out, "--overwrite")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(stale.exists())


if __name__ == "__main__":
    unittest.main()
