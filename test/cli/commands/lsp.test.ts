// `slayer lsp --stdio`: the same server for any editor, started through the CLI binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CompletionRequest } from 'vscode-languageserver-protocol';
import { writeCheckpoint } from '../../helpers/safetensorsWriter';
import { llamaConfig, llamaTensors } from '../../modelfiles/helpers';
import { buildOnce, makeFixture, type Fixture } from '../../language-server/fixture';
import { LspClient, ROOT } from '../../language-server/lspClient';

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

test('slayer lsp reads a host:/path model itself (localhost: the local transport), pending first', async () => {
  const c = await LspClient.start({ command: [process.execPath, join(ROOT, 'bin', 'slayer.js'), 'lsp', '--stdio'], env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  try {
    const uri = fx.uri('remote-cli.slayer');
    const first = c.diagnostics(uri, 1);
    // models/tiny holds a config.json of 8 blocks: 6 + 3 = 9 covered is one too many.
    await c.open(uri, `model localhost:${join(fx.workspace, 'models', 'tiny')}\nexpand (2+1)x3 | 3\n`);
    assert.deepEqual((await first).diagnostics.map((x) => x.code), ['SL013']);
    const checked = await c.diagnostics(uri, 1, (p) => p.diagnostics.some((x) => x.code === 'SL022'));
    assert.match(String(checked.diagnostics[0]!.message), /cover 9 blocks but localhost:.*tiny has 8 \(0–7\): 1 too many/);
    const missing = fx.uri('remote-missing.slayer');
    await c.open(missing, 'model localhost:/nonexistent/dir\nexpand (2+1)x3\n');
    const err = await c.diagnostics(missing, 1, (p) => p.diagnostics.some((x) => x.code === 'SL012'));
    assert.match(String(err.diagnostics.find((x) => x.code === 'SL012')!.message), /cannot read the model on localhost: .*No such file or directory/);
  } finally {
    await c.stop();
  }
});

test('slayer lsp with a client that gives only rootUri completes dataset names from the workspace plans', async () => {
  const c = await LspClient.start({ command: [process.execPath, join(ROOT, 'bin', 'slayer.js'), 'lsp', '--stdio'], env: { HOME: fx.home }, rootUri: pathToFileURL(fx.workspace).href });
  try {
    const uri = fx.uri('root.slayer');
    await c.open(uri, 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nstage sft\n  data \n');
    const r = await c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 3, character: 7 } });
    assert.deepEqual((Array.isArray(r) ? r : r?.items ?? []).map((i) => i.label), ['my-instructions', 'openhermes']);
  } finally {
    await c.stop();
  }
});

test('slayer lsp scans a remote checkpoint\'s headers too: weights that disagree with config.json show on the model line', async () => {
  const dims = { layers: 3, hidden: 16, intermediate: 40, heads: 4, kvHeads: 2, vocab: 50 };
  const dir = join(fx.workspace, 'remote-mismatch');
  await writeCheckpoint(dir, [llamaTensors(dims, 'BF16', () => null)], llamaConfig({ ...dims, layers: 4 }));
  const c = await LspClient.start({ command: [process.execPath, join(ROOT, 'bin', 'slayer.js'), 'lsp', '--stdio'], env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  try {
    const uri = fx.uri('remote-headers.slayer');
    await c.open(uri, `model localhost:${dir}\nexpand (1+1)x2 | 2\n`);
    const d = await c.diagnostics(uri, 1, (p) => p.diagnostics.some((x) => String(x.message).startsWith("the checkpoint's weights")));
    const f = d.diagnostics.find((x) => String(x.message).startsWith("the checkpoint's weights"))!;
    assert.equal(f.code, 'SL012');
    assert.match(String(f.message), /config\.json num_hidden_layers is 4, but the checkpoint has 3 blocks/);
  } finally {
    await c.stop();
  }
});

test('slayer lsp without --stdio prints its usage and exits 2', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'slayer.js'), 'lsp'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stdout, /usage: slayer lsp --stdio/);
});

test('slayer lsp knows the hosts of the CLI\'s hosts.json and of ~/.ssh/config; another host is SL052', async () => {
  mkdirSync(join(fx.home, '.config', 'slayer'), { recursive: true });
  writeFileSync(join(fx.home, '.config', 'slayer', 'hosts.json'), JSON.stringify({ 'cli-box': { python: 'python3' } }));
  const c = await LspClient.start({ command: [process.execPath, join(ROOT, 'bin', 'slayer.js'), 'lsp', '--stdio'], env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  try {
    const codesFor = async (name: string, host: string): Promise<string[]> => {
      const uri = fx.uri(name);
      const p = c.diagnostics(uri, 1);
      await c.open(uri, `model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nrun on ${host}\n`);
      return (await p).diagnostics.map((x) => String(x.code));
    };
    // Settings are read after `initialized`; give the server that moment.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await codesFor('h1.slayer', 'cli-box'), []);
    assert.deepEqual(await codesFor('h2.slayer', 'gpu-box'), []);
    assert.deepEqual(await codesFor('h3.slayer', 'elsewhere'), ['SL052']);
  } finally {
    await c.stop();
  }
});
