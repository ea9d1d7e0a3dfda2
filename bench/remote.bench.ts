// Remote streaming benchmark: a line written to events.jsonl on the host → its arrival in the
// extension-side reader (FileFollower over the SSH transport, loopback sshd), p50/p95 latency at a
// training-like rate, then sustained events/s with a loss/duplicate check. Baseline in the same
// run: the same reader over the localhost transport (a local `tail -F`, no SSH).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventLine } from '../src/protocol/runnerEvents';
import { FileFollower } from '../src/remote/fileFollower';
import { defaultHostSettings } from '../src/remote/hostSettings';
import { LocalTransport } from '../src/remote/localTransport';
import { followScript } from '../src/remote/runScripts';
import { SshTransport } from '../src/remote/sshTransport';
import type { Transport } from '../src/remote/transport';
import { PROJECT_PYTHON } from '../test/helpers/python';
import { TestSshd } from '../test/remote/harness/sshd';

const WRITER = `
import json, sys, time
path, n, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
with open(path, "a", encoding="utf-8") as f:
    for i in range(n):
        f.write(json.dumps({"v": 1, "t": time.time(), "run": "bench", "seq": i, "kind": "log", "level": "info", "msg": "step %d é 中文" % i}, ensure_ascii=False) + "\\n")
        f.flush()
        if interval: time.sleep(interval)
`;

interface Result { latencies: number[]; received: number; seconds: number; dupOrGap: number }

async function measure(transport: Transport, workDir: string, runId: string, n: number, interval: number): Promise<Result> {
  const settings = { ...defaultHostSettings(transport.name), workDir };
  const dir = join(workDir, runId);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const latencies: number[] = [];
  let next = 0;
  let dupOrGap = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    const f = new FileFollower((off, onData) => transport.stream(followScript(settings, runId, 'events.jsonl', off), onData), 0, {
      onLines: (lines) => {
        const now = Date.now() / 1000;
        for (const l of lines) {
          const e = parseEventLine(l);
          if (e.seq !== next) dupOrGap++;
          next = e.seq + 1;
          latencies.push(now - e.t);
          if (!first) first = now;
          last = now;
        }
        if (next >= n) {
          f.stop();
          resolve();
        }
      },
    });
    f.start();
  });
  await new Promise((r) => setTimeout(r, 300)); // let the follower connect before writing
  const writer = spawn(PROJECT_PYTHON, ['-c', WRITER, join(dir, 'events.jsonl'), String(n), String(interval)], { stdio: 'inherit' });
  const started = Date.now() / 1000;
  await done;
  writer.kill();
  return { latencies, received: next, seconds: Math.max(1e-6, last - Math.min(first, started)), dupOrGap };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (s: number): string => `${(s * 1000).toFixed(1)} ms`;

async function main(): Promise<void> {
  const sshd = await TestSshd.start();
  const workDir = join(sshd.dir, 'work');
  const ssh = new SshTransport('slayer-test', { configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  const local = new LocalTransport();
  try {
    await ssh.exec('true'); // open the control master outside the measurement
    const rows: [string, Transport][] = [['ssh (loopback sshd)', ssh], ['local tail (baseline)', local]];
    const lat: Record<string, Result> = {};
    const thr: Record<string, Result> = {};
    for (const [name, t] of rows) lat[name] = await measure(t, workDir, `lat-${t.name}`, 200, 0.02);
    for (const [name, t] of rows) thr[name] = await measure(t, workDir, `thr-${t.name}`, 50_000, 0);
    console.log('latency, 200 events at 50/s (write on host → parsed in the reader):');
    for (const [name] of rows) {
      const r = lat[name]!;
      console.log(`  ${name.padEnd(22)} p50 ${ms(pct(r.latencies, 50))}  p95 ${ms(pct(r.latencies, 95))}  max ${ms(Math.max(...r.latencies))}  lost/dup ${r.dupOrGap}`);
    }
    console.log('sustained, 50 000 events written as fast as Python can:');
    for (const [name] of rows) {
      const r = thr[name]!;
      console.log(`  ${name.padEnd(22)} ${(r.received / r.seconds).toFixed(0)} events/s  received ${r.received}/50000  lost/dup ${r.dupOrGap}`);
    }
    const [a, b] = [lat['ssh (loopback sshd)']!, lat['local tail (baseline)']!];
    console.log(`ratio ssh/local p95 latency: ${(pct(a.latencies, 95) / pct(b.latencies, 95)).toFixed(2)}x; goal p95 < 1 s: ${pct(a.latencies, 95) < 1 ? 'met' : 'NOT met'}`);
    const [c, d] = [thr['ssh (loopback sshd)']!, thr['local tail (baseline)']!];
    console.log(`ratio ssh/local throughput: ${((c.received / c.seconds) / (d.received / d.seconds)).toFixed(2)}x`);
  } finally {
    await ssh.close();
    await sshd.stop();
  }
}

void main().then(() => process.exit(0), (e: Error) => {
  console.error(e);
  process.exit(1);
});
