"""Events: the Python validator against the shared fixtures (the TS side reads the same files),
and what EventWriter writes passes validation with a gapless seq, also across a resume."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from slayer_runner.events import EventError, EventWriter, Progress, parse_event_line, validate_event
from tests.support import TempDirTest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "contracts" / "fixtures" / "events"


def read_events(path: Path) -> list[dict]:
    return [parse_event_line(ln) for ln in path.read_text(encoding="utf-8").splitlines()]


class SharedFixtures(unittest.TestCase):
    def test_valid_lines_are_accepted(self) -> None:
        lines = (FIXTURES / "valid.jsonl").read_text(encoding="utf-8").splitlines()
        self.assertGreaterEqual(len(lines), 8)
        kinds = {parse_event_line(ln)["kind"] for ln in lines}
        self.assertEqual(kinds, {"phase", "progress", "log", "importance", "metric", "artifact", "error", "done", "eval"})

    def test_each_invalid_line_is_rejected(self) -> None:
        lines = (FIXTURES / "invalid.jsonl").read_text(encoding="utf-8").splitlines()
        self.assertGreaterEqual(len(lines), 10)
        for ln in lines:
            with self.subTest(line=ln), self.assertRaises(EventError):
                parse_event_line(ln)

    def test_js_number_semantics(self) -> None:
        base = {"v": 1, "t": 1.0, "run": "r", "seq": 0, "kind": "done", "status": "succeeded", "exit_code": 0}
        validate_event(base)
        validate_event({**base, "seq": 3.0})  # JSON 3.0 is an integer to JS
        for bad in ({"seq": True}, {"v": True}, {"exit_code": 0.5}, {"t": None}):
            with self.subTest(bad=bad), self.assertRaises(EventError):
                validate_event({**base, **bad})
        with self.assertRaises(EventError):
            parse_event_line('{"v":1,"t":NaN,"run":"r","seq":0,"kind":"done","status":"failed","exit_code":1}')
        with self.assertRaises(EventError):  # optional detail may be absent, never null
            validate_event({"v": 1, "t": 1, "run": "r", "seq": 0, "kind": "phase", "phase": "x", "state": "start", "detail": None})


def write_all_kinds(w: EventWriter) -> None:
    w.phase("surgery", "start")
    w.progress("surgery", 1, 4, "tensors", None)
    w.log("héllo ✓ 中文")
    w.metric("cpt", 1, 64, 3.5, 1e-4, 0.9, 1000.0, None)
    w.importance("angular_all", [0.1, 0.2])
    w.artifact("model", "out/model", 123)
    w.error("boom", "surgery", "Traceback ...")
    w.phase("surgery", "end", detail="5 blocks")
    w.done("failed", 1)


TS_CHECK = """
import { readFileSync } from 'node:fs';
import { parseEventLine } from '%s';
const lines = readFileSync(process.argv[2]!, 'utf8').split('\\n').filter((l) => l.length > 0);
console.log(JSON.stringify(lines.map((l) => { try { parseEventLine(l); return true; } catch { return false; } })));
"""

EDGE_LINES = [
    '{"v":1,"t":1,"run":"r","seq":3.0,"kind":"done","status":"succeeded","exit_code":0}',
    '{"v":1.0,"t":1,"run":"r","seq":0,"kind":"done","status":"succeeded","exit_code":0}',
    '{"v":true,"t":1,"run":"r","seq":0,"kind":"done","status":"succeeded","exit_code":0}',
    '{"v":1,"t":1,"run":"r","seq":true,"kind":"done","status":"succeeded","exit_code":0}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"done","status":"succeeded","exit_code":0.5}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"phase","phase":"x","state":"start","detail":null}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"phase","phase":"x","state":"start"}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"progress","phase":"x","done":1,"total":2,"unit":"u"}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"progress","phase":"x","done":1,"total":2,"unit":"u","eta_s":null}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"error","message":"m","where":null}',
    '{"v":1,"t":1e400,"run":"r","seq":0,"kind":"log","level":"info","msg":"inf time"}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"importance","metric":"angular_all","values":[]}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"artifact","name":"a","path":"p"}',
    '{"v":1,"t":1,"run":"r","seq":0,"kind":"metric","stage":"s","step":1,"tokens":1,"loss":1,"lr":1,"grad_norm":1,"tokens_per_s":1,"gpu_mem":false}',
]


class BothSides(unittest.TestCase):
    """The TypeScript validator gives the same verdict as ours on what EventWriter writes, on the
    shared fixtures, and on edge cases of JSON numbers and optional fields."""

    def test_same_verdicts(self) -> None:
        if shutil.which("node") is None or not (ROOT / "node_modules" / "tsx").exists():
            self.skipTest("node with tsx is not available")
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "events.jsonl"
            with EventWriter(path, "run-1", enabled=True) as w:
                write_all_kinds(w)
            lines = path.read_text(encoding="utf-8").splitlines()
            lines += (FIXTURES / "valid.jsonl").read_text(encoding="utf-8").splitlines()
            lines += (FIXTURES / "invalid.jsonl").read_text(encoding="utf-8").splitlines()
            lines += EDGE_LINES
            ours = []
            for ln in lines:
                try:
                    parse_event_line(ln)
                    ours.append(True)
                except EventError:
                    ours.append(False)
            (Path(d) / "all.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            script = Path(d) / "check.ts"
            script.write_text(TS_CHECK % (ROOT / "src" / "protocol" / "runnerEvents"), encoding="utf-8")
            r = subprocess.run(["node", "--import", "tsx", str(script), str(Path(d) / "all.jsonl")], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            theirs = json.loads(r.stdout)
            self.assertEqual(len(theirs), len(lines))
            for line, a, b in zip(lines, ours, theirs):
                self.assertEqual(a, b, f"python says {a}, typescript says {b}: {line}")
            self.assertEqual(ours[:9], [True] * 9)  # what we write is accepted


class Writer(TempDirTest):
    def setUp(self) -> None:
        super().setUp()
        self.path = self.dir / "events.jsonl"

    def test_written_events_validate_and_seq_is_gapless(self) -> None:
        with EventWriter(self.path, "run-1", enabled=True) as w:
            write_all_kinds(w)
        evs = read_events(self.path)
        self.assertEqual([e["seq"] for e in evs], list(range(9)))
        self.assertTrue(all(e["run"] == "run-1" and e["v"] == 1 for e in evs))
        self.assertEqual(evs[2]["msg"], "héllo ✓ 中文")
        self.assertIn("中文".encode(), self.path.read_bytes())  # UTF-8, not \u escapes

    def test_writer_refuses_malformed_events(self) -> None:
        with EventWriter(self.path, "r", enabled=True) as w:
            with self.assertRaises(EventError):
                w.emit("log", level="loud", msg="x")
            with self.assertRaises(EventError):
                w.metric("cpt", 1, 1, float("nan"), 0.1, 1, 1, None)
            w.log("ok")
        self.assertEqual([e["seq"] for e in read_events(self.path)], [0])

    def test_resume_continues_seq_and_drops_a_torn_line(self) -> None:
        with EventWriter(self.path, "r", enabled=True) as w:
            w.log("a")
            w.log("b")
        with open(self.path, "a", encoding="utf-8") as f:
            f.write('{"v":1,"t":1,"run":"r","seq":2,"kind":"lo')  # crash mid-line
        with EventWriter(self.path, "r", enabled=True) as w:
            w.log("c")
        evs = read_events(self.path)
        self.assertEqual([e["seq"] for e in evs], [0, 1, 2])
        self.assertEqual(evs[2]["msg"], "c")

    def test_only_rank_zero_writes(self) -> None:
        code = ("import sys; from slayer_runner.events import EventWriter; "
                "w = EventWriter(sys.argv[1], 'r'); w.log('x'); w.close()")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "runner")}
        for rank in ("1", "0"):
            subprocess.run([sys.executable, "-c", code, str(self.path)], env={**env, "RANK": rank}, check=True)
        self.assertEqual(len(read_events(self.path)), 1)

    def test_progress_eta(self) -> None:
        now = [0.0]
        with EventWriter(self.path, "r", enabled=True) as w:
            p = Progress(w, "surgery", 10, "tensors", interval_s=1.0, clock=lambda: now[0])
            now[0] = 2.0
            p.update(4)       # 2 s for 4 => 3 s for the other 6
            now[0] = 2.5
            p.update(5)       # within the interval: not emitted
            now[0] = 5.0
            p.update(10)      # final always emitted, eta 0
        evs = [e for e in read_events(self.path) if e["kind"] == "progress"]
        self.assertEqual([(e["done"], e["eta_s"]) for e in evs], [(4, 3.0), (10, 0.0)])


if __name__ == "__main__":
    unittest.main()
