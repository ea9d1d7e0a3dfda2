// The pieces of the remote path that need no server: quoting against the real /bin/sh, line
// framing of streamed bytes, `ssh -G` resolution, status parsing and the registry's mirrors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { FileFollower } from '../../src/remote/fileFollower';
import { resolveHost } from '../../src/remote/hostConfig';
import { hostSettingsFrom } from '../../src/remote/hostSettings';
import { checkRunId, launchScript, sbatchArgs, slurmJobScript } from '../../src/remote/runScripts';
import { parseStatusOutput, stateFromStatus } from '../../src/remote/runStatus';
import { RunStore } from '../../src/remote/runStore';
import { shPath, shQuote, UnquotableError } from '../../src/shared/shellQuote';
import type { StreamHandle } from '../../src/remote/transport';

const HOSTILE = ['$(touch /tmp/pwned)', 'a;b', "it's", '"dq"', 'new\nline', '`id`', 'é中🚀', '', ' lead', '-n', '*', '\\', '$HOME', '!x'];

describe('shell quoting', () => {
  test('every hostile word round-trips through /bin/sh and bash unchanged', () => {
    for (const shell of ['/bin/sh', '/bin/bash']) {
      const script = HOSTILE.map((w) => `printf '%s\\0' ${shQuote(w)}`).join('; ');
      const r = spawnSync(shell, ['-c', script], { cwd: tmpdir() });
      assert.deepEqual(r.stdout.toString('utf8').split('\0').slice(0, -1), HOSTILE, shell);
    }
  });
  test('~/ keeps meaning the remote home, the rest stays literal', () => {
    const r = spawnSync('/bin/sh', ['-c', `printf '%s' ${shPath('~/runs/$(x) a')}`], { env: { HOME: '/home/u' } });
    assert.equal(r.stdout.toString(), '/home/u/runs/$(x) a');
  });
  test('NUL cannot be quoted and is refused', () => {
    assert.throws(() => shQuote('a\0b'), UnquotableError);
  });
  test('run ids are restricted to a safe alphabet', () => {
    for (const bad of ['../x', 'a b', '..', 'a/b', '$(x)', '']) assert.throws(() => checkRunId(bad));
    assert.equal(checkRunId('r-20261124-1200-abc'), 'r-20261124-1200-abc');
  });
});

describe('FileFollower framing', () => {
  /** A stream opener whose "remote file" is a buffer delivered in chunks of the given sizes. */
  function opener(data: Buffer, chunk: number, drops: Set<number>) {
    let opens = 0;
    return (offset: number, onData: (b: Buffer) => void): StreamHandle => {
      opens++;
      let ended!: (r: { code: number | null; stderr: string }) => void;
      const p = new Promise<{ code: number | null; stderr: string }>((r) => (ended = r));
      let pos = offset;
      const step = () => {
        if (pos >= data.length) return ended({ code: 0, stderr: 'eof' });
        // Drop the link in the middle of a chunk once for each requested open.
        if (drops.has(opens) && pos - offset > 7) {
          drops.delete(opens);
          return ended({ code: 255, stderr: 'dropped' });
        }
        onData(data.subarray(pos, Math.min(data.length, pos + chunk)));
        pos += chunk;
        setImmediate(step);
      };
      setImmediate(step);
      return { ended: p, stop: () => ended({ code: null, stderr: 'stopped' }) };
    };
  }

  for (const chunk of [1, 2, 3, 5, 64]) {
    test(`multibyte characters split across ${chunk}-byte reads and dropped links stay intact`, async () => {
      const lines = Array.from({ length: 40 }, (_, i) => `line ${i} é 中文 🚀 ✓`);
      const data = Buffer.from(`${lines.join('\n')}\npartial 🚀`);
      const got: string[] = [];
      const f = new FileFollower(opener(data, chunk, new Set([1, 2, 3])), 0, { onLines: (l) => got.push(...l) }, 1, 2);
      f.start();
      const complete = data.lastIndexOf(0x0a) + 1;
      while (f.received < data.length) await new Promise((r) => setTimeout(r, 5));
      assert.equal(f.offset, complete);
      f.stop(true);
      assert.deepEqual(got, [...lines, 'partial 🚀']);
    });
  }
});

describe('host resolution with ssh -G', () => {
  test('aliases, Include and ProxyJump resolve as OpenSSH resolves them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slayer-sshg-'));
    try {
      writeFileSync(join(dir, 'extra.conf'), 'Host gpu\n  HostName gpu.example.org\n  User alice\n  Port 2222\n  ProxyJump bastion\n  IdentityFile ~/.ssh/id_gpu\n');
      writeFileSync(join(dir, 'config'), `Include ${dir}/extra.conf\nHost *\n  StrictHostKeyChecking yes\n`);
      const h = await resolveHost('gpu', { configFile: join(dir, 'config') });
      assert.equal(h.hostname, 'gpu.example.org');
      assert.equal(h.user, 'alice');
      assert.equal(h.port, 2222);
      assert.equal(h.proxyJump, 'bastion');
      assert.equal(h.strictHostKeyChecking, 'true');
      assert.ok(h.identityFiles.some((f) => f.endsWith('.ssh/id_gpu')));
      await assert.rejects(resolveHost('-oProxyCommand=x', {}), /not a valid host name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('status and state', () => {
  const base = `run=r1\npid=42\nalive=1\nstarted_at=100\nexit_code=\nevents_size=10\nlog_size=5\nend\n`;
  test('a live detached run is running; one with an exit code is finished', () => {
    const [s] = parseStatusOutput(base);
    assert.equal(stateFromStatus(s!, null), 'running');
    const [done] = parseStatusOutput(base.replace('alive=1\n', '').replace('exit_code=', 'exit_code=0'));
    assert.equal(stateFromStatus(done!, null), 'succeeded');
    assert.equal(stateFromStatus({ ...done!, exitCode: 143, cancelRequested: true }, null), 'cancelled');
    assert.equal(stateFromStatus({ ...done!, exitCode: 1 }, null), 'failed');
  });
  test('Slurm states map to queued/running; a vanished wrapper is lost', () => {
    const [s] = parseStatusOutput(base.replace('alive=1\n', 'slurm_state=PENDING\n'));
    assert.equal(stateFromStatus(s!, null), 'queued');
    assert.equal(stateFromStatus({ ...s!, slurmState: 'RUNNING' }, null), 'running');
    assert.equal(stateFromStatus({ ...s!, slurmState: null, jobId: '7', slurmOk: true }, null), 'lost');
    assert.equal(stateFromStatus({ ...s!, slurmState: null, jobId: '7', slurmOk: false }, null), 'running', 'controller unreachable ≠ job gone');
  });
  test('host settings are type-checked', () => {
    assert.throws(() => hostSettingsFrom('h', { scheduler: 'pbs' }), /scheduler/);
    assert.throws(() => hostSettingsFrom('h', { gpusPerNode: -1 }), /gpusPerNode/);
    const s = hostSettingsFrom('h', { scheduler: 'slurm', gpusPerNode: 8, slurm: { partition: 'gpu', time: '1:00:00' } });
    assert.deepEqual(sbatchArgs(s, 'r1', { nnodes: 2, nprocPerNode: 8 }).slice(4),
      ['--nodes=2', '--ntasks-per-node=1', '--gres=gpu:8', '--partition=gpu', '--time=1:00:00']);
  });
});

describe('generated launch scripts', () => {
  const settings = hostSettingsFrom('h', { python: '/opt/py $(x)/bin/python', activate: '~/venv a/bin/activate' });
  test('python and activate are quoted; several processes per node go through torchrun', () => {
    const one = launchScript(settings, 1);
    assert.match(one, /^PY='\/opt\/py \$\(x\)\/bin\/python'$/m);
    assert.match(one, /^\. "\$HOME"\/'venv a\/bin\/activate' \|\|/m);
    assert.match(one, /^"\$PY" -m slayer_runner run --run-dir "\$PWD" >> runner.log 2>&1 &$/m);
    assert.match(launchScript(settings, 8), /-m torch\.distributed\.run --standalone --nproc_per_node=8 -m slayer_runner run/);
    assert.match(slurmJobScript(settings, { nnodes: 4, nprocPerNode: 8 }), /srun --kill-on-bad-exit=1 "\$PY" -m torch\.distributed\.run --nnodes="\$SLURM_NTASKS" --nproc_per_node=8/);
    for (const script of [one, launchScript(settings, 8), slurmJobScript(settings, { nnodes: 2, nprocPerNode: 1 })]) {
      const r = spawnSync('/bin/sh', ['-n', '-c', script]);
      assert.equal(r.status, 0, `sh -n: ${r.stderr.toString()}`);
    }
  });
});

describe('RunStore', () => {
  test('records persist, and a mirror cut mid-line by a crash resumes from its last full line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slayer-store-'));
    try {
      const a = new RunStore(dir);
      a.put({ id: 'r1', label: 'x', host: 'h', planFile: null, remoteDir: '~/r1', scheduler: 'none', jobId: null, pid: 1, state: 'running',
        createdAt: 1, startedAt: null, finishedAt: null, exitCode: null, lastStep: null, lastLoss: null, etaS: null, message: null });
      a.appendMirror('r1', 'events.jsonl', ['{"a":1}', '{"é":2}']);
      appendFileSync(a.mirrorPath('r1', 'events.jsonl'), '{"half');
      const b = new RunStore(dir);
      assert.equal(b.get('r1')?.state, 'running');
      const full = Buffer.byteLength('{"a":1}\n{"é":2}\n');
      assert.equal(b.mirrorOffset('r1', 'events.jsonl'), full);
      assert.equal(readFileSync(b.mirrorPath('r1', 'events.jsonl')).length, full);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
