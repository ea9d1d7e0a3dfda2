// The remote-model cache against the real sshd: one round trip per checkpoint, shared by
// concurrent requests, cached, failures not cached, hostile paths quoted.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseRemoteModelRef, RemoteModelCache, RemoteModelError, type RemoteScan } from '../../src/remote/remoteModelCache';
import { shPath } from '../../src/shared/shellQuote';
import { useCountingSsh } from './harness/countingSsh';
import { missingTools, SSHD } from './harness/sshd';

const skip = missingTools([SSHD, '/usr/bin/ssh']);

/** A scan that reads config.json only (the real one, from src/modelfiles, also reads safetensors headers). */
const configScan: RemoteScan<{ num_hidden_layers: number }> = {
  command: (path) => `cat ${shPath(`${path}/config.json`)}`,
  parse: (out) => JSON.parse(out.toString('utf8')) as { num_hidden_layers: number },
};

test('host:/path references are recognised; catalogue names and local paths are not', () => {
  assert.deepEqual(parseRemoteModelRef('gpu1:/models/llama'), { host: 'gpu1', path: '/models/llama' });
  assert.deepEqual(parseRemoteModelRef('login.cluster:~/ckpt'), { host: 'login.cluster', path: '~/ckpt' });
  assert.equal(parseRemoteModelRef('meta-llama/Llama-3-8B'), null);
  assert.equal(parseRemoteModelRef('/local/path'), null);
  assert.equal(parseRemoteModelRef('-oProxyCommand=x:/p'), null);
});

describe('remote model cache over SSH', { skip: skip ?? false, timeout: 60_000 }, () => {
  const ssh = useCountingSsh();

  test('one round trip per checkpoint, shared and cached; failures are retried later', async () => {
    const { sshd, transport: t } = ssh;
    const dir = join(sshd.dir, 'models', "llama $(touch pwned) 'x'");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ num_hidden_layers: 32 }));
    const cache = new RemoteModelCache(() => t, configScan);
    const ref = { host: 'slayer-test', path: dir };
    const [a, b] = await Promise.all([cache.get(ref), cache.get(ref)]);
    assert.equal(a.num_hidden_layers, 32);
    assert.equal(b, a);
    await cache.get(ref);
    assert.equal(t.calls, 1);
    assert.ok(!existsSync(join(sshd.dir, 'home', 'pwned')), 'the hostile path stayed a path');

    const missing = { host: 'slayer-test', path: join(sshd.dir, 'models', 'absent') };
    await assert.rejects(cache.get(missing), (e: Error) => e instanceof RemoteModelError && /absent.*No such file/s.test(e.message));
    mkdirSync(missing.path);
    writeFileSync(join(missing.path, 'config.json'), JSON.stringify({ num_hidden_layers: 4 }));
    assert.equal((await cache.get(missing)).num_hidden_layers, 4);
    assert.equal(t.calls, 3);
  });
});
