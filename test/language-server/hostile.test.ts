// Issue 14's hostile inputs against the spawned server over real JSON-RPC. After each, the server
// must still answer (a hover, within a bound) — the originals killed it (exit 1, SIGTRAP, stack
// overflow) or froze it for over a minute.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  DidChangeConfigurationNotification, DidOpenTextDocumentNotification, HoverRequest, LogMessageNotification, SemanticTokensRequest, type Diagnostic,
} from 'vscode-languageserver-protocol';
import { writeCheckpoint } from '../helpers/safetensorsWriter';
import { llamaConfig, llamaTensors } from '../modelfiles/helpers';
import { buildOnce, makeFixture, smolConfig, type Fixture } from './fixture';
import { LspClient } from './lspClient';

const msg = (d: Diagnostic): string => (typeof d.message === 'string' ? d.message : d.message.value);
const PAPER = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n';

let fx: Fixture;
before(() => {
  buildOnce();
  fx = makeFixture();
});
after(() => fx.cleanup());

/** The server is alive and answers a hover on a fresh, valid plan within `ms`. */
async function stillAnswers(c: LspClient, ms = 10_000): Promise<void> {
  const uri = `untitled:alive-${Math.random().toString(36).slice(2)}.slayer`;
  await c.open(uri, PAPER);
  const t0 = Date.now();
  const hover = await Promise.race([
    c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 1, character: 9 } }),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms)),
  ]);
  assert.notEqual(hover, 'timeout', `no hover answer in ${ms} ms; stderr: ${c.stderr}`);
  assert.ok(hover && JSON.stringify(hover).includes('block'), JSON.stringify(hover));
  assert.ok(Date.now() - t0 < ms);
  assert.equal(c.proc.exitCode, null, 'the server exited');
}

describe('hostile input over JSON-RPC', () => {
  let c: LspClient;
  const logs: string[] = [];
  before(async () => {
    c = await LspClient.start({
      env: { HOME: fx.home },
      workspaceFolders: [{ uri: pathToFileURL(fx.workspace).href, name: 'ws' }],
      settings: { 'slayer.languageServer': { debounceMs: 0 } },
    });
    c.conn.onNotification(LogMessageNotification.method, (p: { message: string }) => { logs.push(p.message); });
  });
  after(() => c.stop());

  test('case 5: didOpen with text null, without text, with uri null — then didChangeConfiguration', async () => {
    const bad = [
      { textDocument: { uri: fx.uri('null-text.slayer'), languageId: 'slayer', version: 1, text: null } },
      { textDocument: { uri: fx.uri('no-text.slayer'), languageId: 'slayer', version: 1 } },
      { textDocument: { uri: null, languageId: 'slayer', version: 1, text: PAPER } },
    ];
    for (const p of bad) await c.conn.sendNotification(DidOpenTextDocumentNotification.method, p);
    await c.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
    await c.conn.sendNotification('textDocument/didChange', { textDocument: { uri: fx.uri('x.slayer'), version: 2 }, contentChanges: [{ range: { start: { line: -1, character: 'a' } }, text: 'x' }] });
    await c.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: 'all' });
    await stillAnswers(c);
    const dropped = logs.filter((l) => l.startsWith('dropped a malformed'));
    assert.deepEqual(dropped, [
      'dropped a malformed textDocument/didOpen notification: textDocument.text is not a string',
      'dropped a malformed textDocument/didOpen notification: textDocument.text is not a string',
      'dropped a malformed textDocument/didOpen notification: textDocument.uri is not a URI string',
      'dropped a malformed textDocument/didChange notification: contentChanges[0].range is not a range of non-negative integers',
      'dropped a malformed workspace/didChangeWatchedFiles notification: changes is not an array',
    ]);
  });

  test('case 1: expand (1+999999999) and (0+999999999)x999999999 typed into the editor', async () => {
    for (const [i, expr] of ['(1+999999999)', '(0+999999999)x999999999'].entries()) {
      const uri = fx.uri(`repeat-${i}.slayer`);
      const t0 = Date.now();
      const d = c.diagnostics(uri, 1, undefined, 10_000);
      await c.open(uri, `model meta-llama/Llama-2-7b-hf\nexpand ${expr}\n`);
      const got = (await d).diagnostics.filter((x) => msg(x).includes('too large'));
      assert.ok(got.length >= 1);
      assert.deepEqual(got[0]!.range.start, { line: 1, character: expr.indexOf('9') + 7 });
      assert.ok(Date.now() - t0 < 10_000);
      await stillAnswers(c);
    }
  });

  test('case 3: 200,000 "|" on one line; semantic tokens still answer', async () => {
    const uri = fx.uri('bars.slayer');
    const d = c.diagnostics(uri, 1, undefined, 15_000);
    await c.open(uri, `model meta-llama/Llama-2-7b-hf\nexpand ${'|'.repeat(200_000)}\n`);
    assert.equal((await d).diagnostics.length, 20);
    const tokens = await c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
    assert.ok(tokens && tokens.data.length > 0);
    await stillAnswers(c);
  });

  test('case 2 and 6: a workspace config.json with num_hidden_layers 999999999, and a 2 GB sparse one', async () => {
    const big = join(fx.workspace, 'big-layers');
    mkdirSync(big, { recursive: true });
    writeFileSync(join(big, 'config.json'), smolConfig(30).replace('"num_hidden_layers": 30', '"num_hidden_layers": 999999999'));
    const sparse = join(fx.workspace, 'sparse');
    mkdirSync(sparse, { recursive: true });
    writeFileSync(join(sparse, 'config.json'), '');
    spawnSync('truncate', ['-s', '2G', join(sparse, 'config.json')]);
    for (const [name, expected] of [['big-layers', /config.json "num_hidden_layers" is 999,999,999, too large: at most 4,096 is accepted/], ['sparse', /config.json: is 2.0 GiB, too large: at most 4.0 MiB is read/]] as const) {
      const uri = fx.uri(`${name}.slayer`);
      const t0 = Date.now();
      const d = c.diagnostics(uri, 1, (p) => p.diagnostics.some((x) => x.code === 'SL012'), 10_000);
      await c.open(uri, `model ./${name}\nexpand (2+1)x8 | 13 | 1◇\n`);
      const sl012 = (await d).diagnostics.find((x) => x.code === 'SL012')!;
      assert.match(msg(sl012), expected);
      assert.deepEqual(sl012.range, { start: { line: 0, character: 6 }, end: { line: 0, character: 6 + name.length + 2 } });
      assert.ok(Date.now() - t0 < 10_000);
    }
    await stillAnswers(c);
  });

  test('case 7: five plans whose checkpoints are FIFOs do not starve a sixth plan\'s checkpoint findings', async () => {
    const dims = { layers: 3, hidden: 16, intermediate: 40, heads: 4, kvHeads: 2, vocab: 50 };
    for (let i = 0; i < 5; i++) {
      const dir = join(fx.workspace, `fifo-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'config.json'), JSON.stringify(llamaConfig(dims)));
      assert.equal(spawnSync('mkfifo', [join(dir, 'model.safetensors')]).status, 0);
    }
    const real = join(fx.workspace, 'real-mismatch');
    await writeCheckpoint(real, [llamaTensors(dims, 'BF16', () => null)], llamaConfig({ ...dims, layers: 4 }));
    const weights = (p: { diagnostics: Diagnostic[] }): boolean => p.diagnostics.some((x) => msg(x).startsWith("the checkpoint's weights"));
    const fifoFindings = [0, 1, 2, 3, 4].map((i) => c.diagnostics(fx.uri(`fifo-${i}.slayer`), 1, weights, 10_000));
    for (let i = 0; i < 5; i++) await c.open(fx.uri(`fifo-${i}.slayer`), `model ./fifo-${i}\nexpand (1+1)x2 | 1\n`);
    const realFinding = c.diagnostics(fx.uri('real.slayer'), 1, weights, 10_000);
    await c.open(fx.uri('real.slayer'), 'model ./real-mismatch\nexpand (1+1)x2 | 2\n');
    assert.match(msg((await realFinding).diagnostics.find((x) => msg(x).startsWith("the checkpoint's weights"))!), /4/);
    for (const f of fifoFindings) assert.match(msg((await f).diagnostics.find((x) => msg(x).startsWith("the checkpoint's weights"))!), /model\.safetensors: a FIFO, not a regular file/);
    await stillAnswers(c);
  });
});

test('case 12: debounceMs 0 with 50 documents × 1000 edits — queued versions are coalesced, the server keeps answering', async () => {
  const c = await LspClient.start({ env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  try {
    const DOCS = 50;
    const EDITS = 1000;
    const uris = Array.from({ length: DOCS }, (_, i) => `untitled:burst-${i}.slayer`);
    const text = `${PAPER}# `;
    for (const uri of uris) await c.open(uri, text);
    const t0 = Date.now();
    const before = c.published.length;
    // Written in one go, so the edits are queued in the server as an editor's would be after a stall.
    const frames: string[] = [];
    for (let e = 0; e < EDITS; e++) {
      for (const uri of uris) {
        const body = JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didChange', params: { textDocument: { uri, version: e + 2 }, contentChanges: [{ range: { start: { line: 2, character: 2 + e }, end: { line: 2, character: 2 + e } }, text: 'a' }] } });
        frames.push(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      }
    }
    const finals = uris.map((uri) => c.diagnostics(uri, EDITS + 1, undefined, 60_000));
    c.proc.stdin!.write(frames.join(''));
    await Promise.all(finals);
    const took = Date.now() - t0;
    const publishes = c.published.length - before;
    assert.ok(took < 60_000, `the burst took ${took} ms`);
    assert.ok(publishes < (DOCS * EDITS) / 4, `${publishes} publishes for ${DOCS * EDITS} edits: queued versions were not coalesced`);
    await stillAnswers(c);
  } finally {
    await c.stop();
  }
});
