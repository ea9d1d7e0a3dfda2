// Language-server fuzzing over real JSON-RPC (issue 14): random notifications — well-formed edits
// with random (also out-of-range) positions, and malformed ones: wrong types, missing fields, null
// URIs, unknown methods — interleaved with requests at random positions. The server must stay
// alive and answer a hover on a valid plan within a bound after every round. The default run takes
// seconds; SLAYER_FUZZ_SCALE=N sends N times as many messages.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HoverRequest } from 'vscode-languageserver-protocol';
import { prng } from '../helpers/prng';
import { buildOnce, makeFixture, PAPER_PLAN, type Fixture } from './fixture';
import { LspClient } from './lspClient';

const SCALE = Math.max(1, Number(process.env.SLAYER_FUZZ_SCALE) || 1);
const ROUNDS = 5 * SCALE;
const PER_ROUND = 120;
const ANSWER_BOUND_MS = 10_000;

let fx: Fixture;
before(() => {
  buildOnce();
  fx = makeFixture();
});
after(() => fx.cleanup());

const JUNK: unknown[] = [null, undefined, 0, -1, 1e308, 'x', '', [], {}, [null], { uri: null }, true, 'file:///', 'untitled:a', { line: -1, character: 'a' }, Number.MAX_SAFE_INTEGER + 2];
const SNIPPETS = ['|', '(1+999999999)', '(0+4096)x4096', '\n', '\r', '\ufeff', '9'.repeat(30), 'model ./ckpt\n', 'stage cpt\n  steps 99999999999999999999999\n', '◇', '#', ' '];

test('random and malformed notifications never stop the server from answering', async () => {
  const rand = prng(20261207);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number): number => Math.floor(rand() * n);
  const junk = (): unknown => pick(JUNK);
  const c = await LspClient.start({
    env: { HOME: fx.home },
    workspaceFolders: [{ uri: fx.uri(''), name: 'ws' }],
    settings: { 'slayer.languageServer': { debounceMs: pick([0, 0, 5]) } },
  });
  try {
    const uris = [0, 1, 2, 3].map((i) => fx.uri(`fuzz-${i}.slayer`));
    const versions = new Map<string, number>();
    const position = (): unknown => (rand() < 0.8 ? { line: int(20), character: int(200) } : junk());
    const messages: (() => Promise<unknown>)[] = [
      async () => {
        const uri = pick(uris);
        versions.set(uri, 1);
        return c.open(uri, rand() < 0.5 ? PAPER_PLAN : pick(SNIPPETS).repeat(1 + int(3000)));
      },
      async () => {
        const uri = pick(uris);
        const v = (versions.get(uri) ?? 1) + 1;
        versions.set(uri, v);
        const start = { line: int(25), character: int(120) };
        return c.change(uri, v, [rand() < 0.9 ? { range: { start, end: rand() < 0.5 ? start : { line: start.line + int(3), character: int(50) } }, text: pick(SNIPPETS).repeat(1 + int(rand() < 0.05 ? 50_000 : 20)) } : { text: pick(SNIPPETS) }]);
      },
      async () => c.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: pick([junk(), pick(uris)]), languageId: junk(), version: junk(), text: junk() } }),
      async () => c.conn.sendNotification('textDocument/didChange', { textDocument: { uri: pick([junk(), pick(uris)]), version: junk() }, contentChanges: pick([junk(), [{ range: { start: position(), end: position() }, text: junk() }]]) }),
      async () => c.conn.sendNotification('textDocument/didClose', pick([junk(), { textDocument: { uri: pick([junk(), pick(uris)]) } }])),
      async () => c.conn.sendNotification('workspace/didChangeConfiguration', { settings: junk() }),
      async () => c.conn.sendNotification('workspace/didChangeWatchedFiles', pick([junk(), { changes: [{ uri: pick([junk(), fx.uri('ckpt/config.json')]), type: pick([1, 2, 3, junk()]) }] }])),
      async () => c.conn.sendNotification(pick(['$/cancelRequest', '$/setTrace', 'slayer/unknown', 'textDocument/didSave']), junk()),
      async () => c.conn.sendRequest(pick(['textDocument/hover', 'textDocument/completion', 'textDocument/semanticTokens/full', 'textDocument/formatting', 'textDocument/codeAction', 'textDocument/inlayHint', 'textDocument/documentSymbol', 'textDocument/codeLens']),
        { textDocument: { uri: pick([pick(uris), junk()]) }, position: position(), range: { start: position(), end: position() }, context: { diagnostics: [] }, options: { tabSize: 2, insertSpaces: true } }).catch(() => undefined),
    ];
    for (let round = 0; round < ROUNDS; round++) {
      const pending: Promise<unknown>[] = [];
      for (let k = 0; k < PER_ROUND; k++) pending.push(pick(messages)());
      await Promise.all(pending);
      const uri = `untitled:alive-${round}.slayer`;
      await c.open(uri, PAPER_PLAN);
      const hover = await Promise.race([
        c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 2, character: 9 } }),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ANSWER_BOUND_MS)),
      ]);
      assert.notEqual(hover, 'timeout', `round ${round}: no answer in ${ANSWER_BOUND_MS} ms`);
      assert.ok(hover && JSON.stringify(hover).includes('block'), `round ${round}: ${JSON.stringify(hover)}`);
      assert.equal(c.proc.exitCode, null, `round ${round}: the server exited; stderr: ${c.stderr}`);
    }
    assert.doesNotMatch(c.stderr, /Uncaught|FATAL|RangeError/);
  } finally {
    await c.stop();
  }
});
