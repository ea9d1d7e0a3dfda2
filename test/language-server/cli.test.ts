// `slayer lsp --stdio`: the same server for any editor, started through the CLI binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildOnce, makeFixture, type Fixture } from './fixture';
import { LspClient, ROOT } from './lspClient';

let fx: Fixture;
before(() => {
  buildOnce();
  fx = makeFixture();
});
after(() => fx.cleanup());

test('slayer lsp --stdio answers initialize and publishes diagnostics; exit ends the process', async () => {
  const c = await LspClient.start({ command: [process.execPath, join(ROOT, 'bin', 'slayer.js'), 'lsp', '--stdio'], env: { HOME: fx.home } });
  assert.equal(c.init.serverInfo?.name, 'slayer-language-server');
  assert.equal(c.init.capabilities.hoverProvider, true);
  assert.deepEqual(c.init.capabilities.textDocumentSync, { openClose: true, change: 2 });
  const uri = fx.uri('cli.slayer');
  const p = c.diagnostics(uri, 1);
  await c.open(uri, 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 17 | 1◇\n');
  const d = (await p).diagnostics;
  assert.deepEqual(d.map((x) => x.code), ['SL022']);
  await c.stop();
  assert.equal(c.proc.exitCode, 0);
});

test('slayer lsp without --stdio prints its usage and exits 2', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'slayer.js'), 'lsp'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stdout, /usage: slayer lsp --stdio/);
});
