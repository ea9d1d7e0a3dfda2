"""The runner's verdict on every case of the shared corrupt-checkpoint corpus (checkpoint_corpus.py)
is the expected one; test/contracts/checkpointVerdicts.test.ts asserts the same of the TypeScript
reader on the same bytes, and that the two agree."""
from __future__ import annotations

import time
import unittest

from .checkpoint_corpus import python_verdict, write_corpus
from .support import TempDirTest


class CheckpointCorpus(TempDirTest):
    def test_every_case_gets_its_verdict(self) -> None:
        cases = write_corpus(self.dir)
        self.assertGreater(len(cases), 60)
        for name, c in cases.items():
            with self.subTest(case=name):
                started = time.monotonic()
                self.assertEqual(python_verdict(c["path"]), c["expect"])
                self.assertLess(time.monotonic() - started, 10.0)  # no FIFO waits, no quadratic parse


if __name__ == "__main__":
    unittest.main()
