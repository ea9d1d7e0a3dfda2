// The SSH path against a real OpenSSH sshd on loopback: dispatch, live streaming, secrets,
// host-key refusal, dropped connections and sshd restarts, cancel, hostile names, list/fetch/delete.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { DoctorError, RunBusyError } from '../../src/remote/runService';
import { HostKeyError, SshTransport } from '../../src/remote/sshTransport';
import { shQuote } from '../../src/shared/shellQuote';
import { Collector } from './harness/collect';
import { alive, processesMatching, waitFor } from './harness/processes';
import { makeRig, type Rig } from './harness/remoteFixture';
import { missingTools, SSHD, TestSshd } from './harness/sshd';
import { TcpProxy } from './harness/tcpProxy';
import { tinyLayerMap, tinyRunConfig } from './fixtures/tinyPlan';
import { PROJECT_PYTHON } from '../helpers/python';

const skip = missingTools([SSHD, '/usr/bin/ssh', PROJECT_PYTHON]);
const EVENTS_PER_STEP = 2;
const expectedEvents = (steps: number) => steps * EVENTS_PER_STEP + 4;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    if (name.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('remote runs over SSH', { skip: skip ?? false, timeout: 180_000 }, () => {
  let sshd: TestSshd;
  let rig: Rig;
  before(async () => {
    sshd = await TestSshd.start();
    rig = makeRig(sshd);
  });
  after(async () => {
    await rig?.dispose();
    await sshd?.stop();
  });

  test('dispatch streams every event live; secrets reach the runner only through its environment', async () => {
    const token = `hf_${createHash('sha1').update(String(Math.random())).digest('hex')}`;
    const steps: string[] = [];
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(30), label: 'tiny',
      secrets: { HF_TOKEN: token, SLAYER_FAKE_INTERVAL: '0.01' }, onStep: (s, d) => steps.push(`${s}: ${d}`),
    });
    assert.deepEqual(steps.map((s) => s.split(':')[0]), ['pack', 'upload', 'doctor', 'launch']);
    assert.match(steps[1]!, new RegExp(`to slayer-test \\(\\S+@127\\.0\\.0\\.1:${sshd.port}\\)`), 'ssh -G resolved the alias');
    assert.equal(rec.state, 'running');
    assert.ok(rec.pid && rec.pid > 1);
    const c = new Collector();
    const final = await rig.service.attach(rec.id, c).finished;
    assert.equal(final.state, 'succeeded');
    assert.equal(final.exitCode, 0);
    assert.equal(c.events.length, expectedEvents(30));
    assert.deepEqual(c.seqProblems(), []);
    assert.equal(final.lastStep, 29);
    assert.ok(c.log.some((l) => l.includes('héllo ✓ 中文')), 'runner.log streamed with its multibyte text');
    assert.ok(c.events.some((e) => e.kind === 'log' && e.msg.includes('🚀')));
    const runDir = join(rig.workDir, rec.id);
    // The mirror is byte-identical to the host's file: its length is the resume offset.
    assert.deepEqual(readFileSync(rig.store.mirrorPath(rec.id, 'events.jsonl')), readFileSync(join(runDir, 'events.jsonl')));
    const env = JSON.parse(readFileSync(join(runDir, 'out', 'env.json'), 'utf8')) as { hf_token_sha256: string; argv: string[] };
    assert.equal(env.hf_token_sha256, createHash('sha256').update(token).digest('hex'));
    assert.ok(!env.argv.join(' ').includes(token));
    for (const f of [...filesUnder(runDir), ...filesUnder(rig.storeDir)]) {
      assert.ok(!readFileSync(f).includes(token), `secret leaked into ${f}`);
    }
    assert.equal(readFileSync(join(runDir, 'exit_code'), 'utf8').trim(), '0');
    assert.ok(!existsSync(join(runDir, 'exit_code.tmp')));
    // Once finished, the followers end on the host too: no tail (or anything else) stays in the run dir.
    await waitFor(() => processesMatching(runDir).length === 0, 10_000, 'the host-side followers to end');
  });

  test("the runner's doctor stops a plan that cannot run, with its message", async () => {
    await assert.rejects(
      rig.service.dispatch({ host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(3, { device: 'cuda' }) }),
      (e: Error) => e instanceof DoctorError && /no CUDA device/.test(e.message) && /slayer-test/.test(e.message),
    );
  });

  test('an unknown host key is refused, naming the host and the fingerprint; so is a changed one', async () => {
    const emptyKnown = join(sshd.dir, 'known_hosts_empty');
    writeFileSync(emptyKnown, '');
    sshd.addAlias('stranger', sshd.port, emptyKnown);
    const fp = spawnSync('ssh-keygen', ['-lf', join(sshd.dir, 'host.pub')], { encoding: 'utf8' }).stdout.split(' ')[1]!;
    const t = new SshTransport('stranger', { configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    await assert.rejects(t.exec('touch /tmp/should-not-run'), (e: Error) =>
      e instanceof HostKeyError && e.kind === 'unknown' && e.message.includes('"stranger"') && e.message.includes(fp));
    assert.equal(readFileSync(emptyKnown, 'utf8'), '', 'nothing was added to known_hosts');

    const otherKey = join(sshd.dir, 'other');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const wrongKnown = join(sshd.dir, 'known_hosts_wrong');
    writeFileSync(wrongKnown, `[127.0.0.1]:${sshd.port} ${readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    sshd.addAlias('impostor', sshd.port, wrongKnown);
    const t2 = new SshTransport('impostor', { configFile: sshd.clientConfig, controlDir: sshd.controlDir, hostKeyPolicy: 'accept-new' });
    await assert.rejects(t2.exec('true'), (e: Error) =>
      e instanceof HostKeyError && e.kind === 'changed' && e.message.includes('"impostor"') && e.message.includes(fp));
  });

  test('streaming survives a reset, a blackhole and an sshd restart with 0 lost and 0 duplicated events', async () => {
    const proxy = await TcpProxy.start(sshd.port);
    sshd.trustPort(proxy.port);
    sshd.addAlias('flaky', proxy.port);
    try {
      const steps = 250;
      const rec = await rig.service.dispatch({
        host: 'flaky', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(steps), secrets: { SLAYER_FAKE_INTERVAL: '0.03' },
      });
      const c = new Collector();
      const mon = rig.service.attach(rec.id, c);
      const reached = (n: number) => waitFor(() => c.events.length >= n, 60_000, `${n} events`);
      await reached(40);
      proxy.reset();
      await reached(c.events.length + 40);
      proxy.blackhole();
      await new Promise((r) => setTimeout(r, 1500));
      await reached(c.events.length + 40);
      await sshd.restart();
      const final = await mon.finished;
      assert.equal(final.state, 'succeeded');
      assert.equal(c.events.length, expectedEvents(steps));
      assert.deepEqual(c.seqProblems(), []);
      assert.deepEqual(mon.sequence, { received: expectedEvents(steps), duplicates: 0, gaps: 0, lastSeq: expectedEvents(steps) - 1 });
      assert.deepEqual(readFileSync(rig.store.mirrorPath(rec.id, 'events.jsonl')), readFileSync(join(rig.workDir, rec.id, 'events.jsonl')));
      assert.deepEqual(readFileSync(rig.store.mirrorPath(rec.id, 'runner.log')), readFileSync(join(rig.workDir, rec.id, 'runner.log')));
      assert.ok(c.notices.filter((n) => /dropped/.test(n)).length >= 2, `reconnects were needed: ${c.notices.join(' | ')}`);
    } finally {
      await rig.transports.get('flaky')?.close();
      rig.transports.delete('flaky');
      await proxy.close();
    }
  });

  test('after an editor restart streaming resumes from the mirror with no gap and no duplicate', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(80), secrets: { SLAYER_FAKE_INTERVAL: '0.02' },
    });
    const first = new Collector();
    rig.service.attach(rec.id, first);
    await waitFor(() => first.events.length >= 30, 30_000, '30 events');
    rig.service.detach(rec.id);
    // A second registry over the same storage directory, as a restarted editor would build.
    const again = makeRig(sshd, {}, {}, rig.storeDir);
    again.settings.set('slayer-test', rig.settings.get('slayer-test')!);
    try {
      const second = new Collector();
      const mon = again.service.attach(rec.id, second);
      const final = await mon.finished;
      assert.equal(final.state, 'succeeded');
      const all = [...first.events, ...second.events];
      assert.equal(all.length, expectedEvents(80));
      all.forEach((e, i) => assert.equal(e.seq, i));
      assert.equal(mon.sequence.duplicates, 0);
    } finally {
      await again.dispose();
    }
  });

  test('cancel stops the whole process group and leaves no process behind', async () => {
    const rec = await rig.service.dispatch({
      host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(100_000), secrets: { SLAYER_FAKE_INTERVAL: '0.05' },
    });
    const c = new Collector();
    const mon = rig.service.attach(rec.id, c);
    const runDir = join(rig.workDir, rec.id);
    await waitFor(() => existsSync(join(runDir, 'out', 'child.pid')) && c.events.length > 3, 30_000, 'the run to start');
    const pid = Number(readFileSync(join(runDir, 'pid'), 'utf8'));
    const child = Number(readFileSync(join(runDir, 'out', 'child.pid'), 'utf8'));
    assert.ok(alive(pid) && alive(child));
    await rig.service.cancel(rec.id, 5);
    const final = await mon.finished;
    assert.equal(final.state, 'cancelled');
    assert.equal(c.events[c.events.length - 1]?.kind, 'done', JSON.stringify(c.events.slice(-3)) + readFileSync(join(runDir, 'events.jsonl'), 'utf8').slice(-400) + readFileSync(join(runDir, 'runner.log'), 'utf8').slice(-600));
    assert.deepEqual(c.seqProblems(), []);
    await waitFor(() => !alive(pid) && !alive(child), 5000, 'processes to go');
    assert.deepEqual(processesMatching(runDir), [], 'no process of the run remains');
  });

  test('hostile names in settings, paths and labels reach the shell quoted and create no file', async () => {
    const marker = `/tmp/pwned-${process.pid}`;
    const hostile = [`$(touch ${marker})`, `a;b`, `'q"`, 'x\ny', `\`touch ${marker}\``, 'é中 🚀', '-rf', '*'];
    const out = spawnSync('ssh', ['-F', sshd.clientConfig, '-o', `ControlPath=${sshd.controlDir}/%C`, 'slayer-test',
      `exec sh -c ${shQuote(hostile.map((h) => `printf '%s\\0' ${shQuote(h)}`).join('; '))}`]);
    assert.deepEqual(out.stdout.toString('utf8').split('\0').slice(0, -1), hostile, 'every word round-trips byte for byte');

    const evilDir = join(rig.workDir, hostile.join('_'));
    mkdirSync(evilDir, { recursive: true });
    const activate = join(evilDir, 'act $(touch pwned-here);`touch pwned-here`.sh');
    writeFileSync(activate, 'SLAYER_ACTIVATED=yes; export SLAYER_ACTIVATED\n');
    const evilRig = makeRig(sshd, { 'slayer-test': { workDir: join(evilDir, 'runs ;$(x)'), activate } });
    try {
      const rec = await evilRig.service.dispatch({
        host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(3), label: hostile.join(' '),
      });
      const final = await evilRig.service.attach(rec.id, new Collector()).finished;
      assert.equal(final.state, 'succeeded');
      assert.ok(existsSync(join(evilDir, 'runs ;$(x)', rec.id, 'out', 'metrics.json')), 'the run used the literal directory');
      assert.equal(readFileSync(join(evilDir, 'runs ;$(x)', rec.id, 'label'), 'utf8'), `${hostile.join(' ')}\n`);
      assert.ok(!existsSync(marker), 'no command from a name was executed');
      for (const d of [evilDir, join(evilDir, 'runs ;$(x)', rec.id), process.env.HOME ?? '/root', process.cwd()]) {
        assert.ok(!existsSync(join(d, 'pwned-here')), `no file made in ${d}`);
      }
    } finally {
      await evilRig.dispose();
      rmSync(marker, { force: true });
    }
  });

  test("more streams and commands than sshd's MaxSessions (10) all flow: extra masters, queued commands", async () => {
    const t = new SshTransport('slayer-test', { configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    try {
      const got = Array.from({ length: 14 }, () => '');
      const handles = got.map((_, i) => t.stream(`echo start ${i}; cat > /dev/null`, (b) => (got[i] += b.toString())));
      await waitFor(() => got.every((g, i) => g === `start ${i}\n`), 20_000, `all streams to start: ${JSON.stringify(got)}`);
      // More short commands at once than one master's sessions: they queue instead of being refused.
      const r = await Promise.all(Array.from({ length: 16 }, (_, i) => t.exec(`sleep 0.2; echo ${i}`)));
      assert.deepEqual(r.map((x) => x.stdout.toString().trim()), Array.from({ length: 16 }, (_, i) => String(i)));
      for (const h of handles) h.stop();
      await Promise.all(handles.map((h) => h.ended));
    } finally {
      await t.close();
    }
  });

  test('list, fetch artifacts and delete a run directory', async () => {
    const rec = await rig.service.dispatch({ host: 'slayer-test', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(2) });
    await rig.service.attach(rec.id, new Collector()).finished;
    assert.ok((await rig.service.listRemote('slayer-test')).includes(rec.id));
    // What the real runner leaves in out/ besides the small files: weights and training checkpoints.
    const out = join(rig.workDir, rec.id, 'out');
    mkdirSync(join(out, 'model'), { recursive: true });
    mkdirSync(join(out, 'checkpoints', 'stage0-step00000002'), { recursive: true });
    writeFileSync(join(out, 'model', 'config.json'), '{"num_hidden_layers": 5}');
    writeFileSync(join(out, 'model', 'model.safetensors'), 'weights');
    writeFileSync(join(out, 'checkpoints', 'stage0-step00000002', 'state.json'), '{}');
    const dest = join(rig.storeDir, 'fetched');
    await rig.service.fetchArtifacts(rec.id, dest);
    assert.deepEqual(JSON.parse(readFileSync(join(dest, 'out', 'metrics.json'), 'utf8')), { steps: 2 });
    assert.ok(existsSync(join(dest, 'events.jsonl')) && existsSync(join(dest, 'layermap.json')));
    assert.ok(existsSync(join(dest, 'out', 'model', 'config.json')), 'the expanded config is fetched');
    assert.ok(!existsSync(join(dest, 'out', 'model', 'model.safetensors')), 'weights stay on the host');
    assert.ok(!existsSync(join(dest, 'out', 'checkpoints')), 'training checkpoints stay on the host');
    await rig.service.deleteRun(rec.id);
    assert.ok(!existsSync(join(rig.workDir, rec.id)));
    assert.equal(rig.store.get(rec.id), undefined);
    assert.ok(!(await rig.service.listRemote('slayer-test')).includes(rec.id));
  });
});

describe('the localhost target runs the same protocol without SSH', { timeout: 60_000 }, () => {
  test('only one process streams a run; a dead holder is taken over (editor windows share a store)', async () => {
    const rig = makeRig(null);
    try {
      const rec = await rig.service.dispatch({ host: 'localhost', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(5) });
      // Another process (a second editor window) takes the run's monitor lock and stays alive.
      const holder = spawn(process.execPath, ['--import', 'tsx', '-e',
        `const { RunStore } = require(${JSON.stringify(join(__dirname, '../../src/remote/runStore.ts'))});
         if (!new RunStore(${JSON.stringify(rig.storeDir)}).acquireMonitorLock(${JSON.stringify(rec.id)})) process.exit(3);
         console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (c) => reject(new Error(`lock holder exited ${c}`)));
      });
      assert.equal(rig.service.tryAttach(rec.id, new Collector()), null);
      assert.throws(() => rig.service.attach(rec.id, new Collector()), RunBusyError);
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      const c = new Collector();
      const final = await rig.service.attach(rec.id, c).finished;
      assert.equal(final.state, 'succeeded');
      assert.equal(c.events.length, expectedEvents(5));
      assert.ok(!existsSync(join(rig.store.runDir(rec.id), 'monitor.lock')), 'released once finished');
    } finally {
      await rig.dispose();
    }
  });

  test('dispatch, stream and finish on localhost', async () => {
    const rig = makeRig(null);
    try {
      const rec = await rig.service.dispatch({ host: 'localhost', layerMap: tinyLayerMap(), runConfig: tinyRunConfig(10) });
      const c = new Collector();
      const final = await rig.service.attach(rec.id, c).finished;
      assert.equal(final.state, 'succeeded');
      assert.equal(c.events.length, expectedEvents(10));
      assert.deepEqual(c.seqProblems(), []);
    } finally {
      await rig.dispose();
    }
  });
});
