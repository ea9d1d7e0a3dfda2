// Issue 14 case 13: a killed client must not block re-attaching. The monitor lock's holder is
// judged by /proc: a zombie (killed, not yet reaped by its parent) is dead, and a live process whose
// start time differs from the one in the lock is a reused PID, not the holder.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RunStore } from '../../src/remote/runStore';

const RUN = 'run-1';
let dir: string;
const children: ChildProcess[] = [];
before(() => { dir = mkdtempSync(join(tmpdir(), 'slayer-lock-')); });
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const hasProc = existsSync('/proc/self/stat');
const statFields = (pid: number): string[] => {
  const t = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return t.slice(t.lastIndexOf(')') + 2).split(' ');
};
const lockPath = (store: RunStore): string => join(store.runDir(RUN), 'monitor.lock');

/** Spawns `sh -c script`, returns it and the first line it prints. */
async function shell(script: string): Promise<{ proc: ChildProcess; line: string }> {
  const proc = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    proc.once('exit', (c) => reject(new Error(`sh exited ${c} before printing`)));
  });
  return { proc, line };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a SIGKILLed holder that its parent has not reaped yet (a zombie) does not block re-attach', { skip: !hasProc && 'needs /proc' }, async () => {
  const storeDir = join(dir, 'zombie');
  const runStore = join(__dirname, '../../src/remote/runStore.ts');
  // The holder takes the lock like `slayer attach` does; its parent `exec`s into sleep and never reaps it.
  const holderJs = `const { RunStore } = require(${JSON.stringify(runStore)}); if (!new RunStore(${JSON.stringify(storeDir)}).acquireMonitorLock('${RUN}')) process.exit(3); console.log('locked'); setInterval(() => {}, 1000);`;
  const { line } = await shell(`${JSON.stringify(process.execPath)} --import tsx -e ${shQuote(holderJs)} & echo $!; exec sleep 60`);
  const holderPid = Number(line);
  const store = new RunStore(storeDir);
  await until(() => existsSync(lockPath(store)) && readFileSync(lockPath(store), 'utf8').startsWith(`${holderPid} `));
  assert.equal(store.acquireMonitorLock(RUN), false, 'a live holder keeps the lock');
  process.kill(holderPid, 'SIGKILL');
  await until(() => statFields(holderPid)[0] === 'Z');
  const t0 = Date.now();
  assert.equal(store.acquireMonitorLock(RUN), true, 'the zombie holder is dead: the lock is taken over');
  assert.ok(Date.now() - t0 < 1000);
  assert.match(readFileSync(lockPath(store), 'utf8'), new RegExp(`^${process.pid} \\d+$`), 'the new lock records pid and start time');
});

test('a lock naming a live process with another start time (a reused PID) is taken over; the real holder is not', { skip: !hasProc && 'needs /proc' }, async () => {
  const { line } = await shell('echo $$; exec sleep 60');
  const pid = Number(line);
  const start = statFields(pid)[19]!;
  const storeDir = join(dir, 'reused');
  const store = new RunStore(storeDir);
  mkdirSync(store.runDir(RUN), { recursive: true });
  writeFileSync(lockPath(store), `${pid} ${start}`);
  assert.equal(store.acquireMonitorLock(RUN), false, 'pid and start time match: the holder is alive');
  writeFileSync(lockPath(store), `${pid} ${Number(start) + 1}`);
  assert.equal(store.acquireMonitorLock(RUN), true, 'same pid, other start time: a reused PID');
  store.releaseMonitorLock(RUN);
  assert.equal(existsSync(lockPath(store)), false, 'released');
  // A lock written before start times were recorded (pid only) is still honoured while the pid lives.
  writeFileSync(lockPath(store), String(pid));
  assert.equal(new RunStore(storeDir).acquireMonitorLock(RUN), false);
});

function shQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
