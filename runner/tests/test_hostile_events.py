"""Issue 14 case 8: continuing an existing events file reads only its end, backwards, with a bounded
buffer (a 20 MB file took 23 s, a 50 MB one over a minute), and a last line that is not an event
gives a message, not a traceback. Bounds are on bytes read (/proc/self/io), wall time and peak RSS."""
from __future__ import annotations

import json
import os
import unittest
from pathlib import Path

from slayer_runner.events import MAX_EVENT_LINE, EventError, EventWriter

from .support import TempDirTest, run_bounded, tiny


def event_line(seq: int, msg: str = "x" * 100) -> bytes:
    return (json.dumps({"v": 1, "t": 1.0, "run": "r", "seq": seq, "kind": "log", "level": "info", "msg": msg})
            + "\n").encode()


def write_events(path: Path, size: int) -> int:
    """Valid events up to ``size`` bytes; returns the number of lines."""
    n = 0
    with open(path, "wb") as f:
        while f.tell() < size:
            f.write(event_line(n))
            n += 1
    return n


def bytes_read() -> int:
    with open("/proc/self/io", encoding="ascii") as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


class EventsScan(TempDirTest):
    def test_large_file_with_a_torn_tail_reads_only_its_end(self) -> None:
        path = self.dir / "events.jsonl"
        n = write_events(path, 50_000_000)
        with open(path, "ab") as f:
            f.write(b'{"v": 1, "torn": "' + b"y" * 900_000)  # a crash mid-line, near the line limit
        valid = sum(len(event_line(i)) for i in range(n))
        before = bytes_read()
        with EventWriter(path, "r") as w:
            self.assertEqual(w.seq, n)
            w.log("resumed")
        self.assertLess(bytes_read() - before, 3 * MAX_EVENT_LINE)  # not the 50 MB
        with open(path, "rb") as f:  # the torn line is gone, the new one follows the last complete one
            f.seek(valid - len(event_line(n - 1)))
            prev, last = f.read().splitlines()
        self.assertEqual(json.loads(prev)["seq"], n - 1)
        self.assertEqual((json.loads(last)["seq"], json.loads(last)["msg"]), (n, "resumed"))

    def test_a_tail_without_line_breaks_is_refused_not_cut(self) -> None:
        path = self.dir / "events.jsonl"
        path.write_bytes(b"x" * 20_000_000)
        before = bytes_read()
        with self.assertRaisesRegex(EventError, "no line break in its last 1048576 bytes"):
            EventWriter(path, "r")
        self.assertLess(bytes_read() - before, 2 * MAX_EVENT_LINE)
        self.assertEqual(path.stat().st_size, 20_000_000)  # nothing lost

    def test_a_complete_last_line_that_is_not_an_event(self) -> None:
        for last in (b"not json at all\n", b'{"v": 1, "seq": "seven"}\n', b"\xff\xfe\n", b"[[[[\n"):
            path = self.dir / "events.jsonl"
            path.write_bytes(event_line(0) + last)
            with self.subTest(last=last):
                with self.assertRaisesRegex(EventError, "cannot continue after its last line, which is not an event"):
                    EventWriter(path, "r")
                self.assertEqual(path.read_bytes(), event_line(0) + last)

    def test_not_a_regular_file(self) -> None:
        (self.dir / "dir.jsonl").mkdir()
        os.mkfifo(self.dir / "fifo.jsonl")
        for name in ("dir.jsonl", "fifo.jsonl"):
            with self.subTest(name=name):
                with self.assertRaisesRegex(EventError, "cannot append events to it"):
                    EventWriter(self.dir / name, "r")

    def test_surgery_with_such_an_events_file_says_why(self) -> None:
        """The original cases as the process a user runs: a 20 MB file ending in a non-JSON line."""
        src = tiny(self.dir / "src", num_layers=2, hidden_size=16, intermediate_size=24, num_heads=2, num_kv_heads=1)
        path = self.dir / "events.jsonl"
        write_events(path, 20_000_000)
        with open(path, "ab") as f:
            f.write(b"garbage that is not JSON\n")
        r = run_bounded(["surgery", "--layer-map", str(self.dir / "none.json"), "--source", str(src),
                         "--output", str(self.dir / "out"), "--events", str(path)], timeout=300)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot continue after its last line, which is not an event", r.stderr)
        self.assertIn("garbage that is not JSON", r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        self.assertLess(r.peak_rss_mb, 600)  # the command alone; importing torch is ~220 MB


if __name__ == "__main__":
    unittest.main()
