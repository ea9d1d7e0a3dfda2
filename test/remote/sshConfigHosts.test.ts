// Host aliases read from a real ssh config tree (files on disk, Include with a glob).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sshConfigHosts } from '../../src/remote/sshConfigHosts';

test('Host aliases of ~/.ssh/config: patterns skipped, Include followed, each alias once', () => {
  const home = mkdtempSync(join(tmpdir(), 'slayer-sshcfg-'));
  try {
    mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), [
      '# my hosts', 'Host a100-box gpu1', '  HostName 10.0.0.5', 'Host *.internal !bastion', '  User me',
      'Include conf.d/*.conf', 'Host=login "cluster-2"', 'Host gpu1', 'Include ~/.ssh/missing', 'Include config',
    ].join('\n'));
    writeFileSync(join(home, '.ssh', 'conf.d', 'b.conf'), 'Host lab-b\n');
    writeFileSync(join(home, '.ssh', 'conf.d', 'a.conf'), 'Host lab-a # first by name\n');
    writeFileSync(join(home, '.ssh', 'conf.d', 'notes.txt'), 'Host not-included\n');
    assert.deepEqual(sshConfigHosts(undefined, home), ['a100-box', 'gpu1', 'lab-a', 'lab-b', 'login', 'cluster-2']);
    assert.deepEqual(sshConfigHosts(join(home, '.ssh', 'conf.d', 'b.conf'), home), ['lab-b']);
    assert.deepEqual(sshConfigHosts(join(home, 'nope'), home), []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
