// Diagnostics (service/diagnostics.ts, and how the server publishes them) over real JSON-RPC: on open
// and after incremental edits (debounced), with exact ranges, codes linking to the docs, related
// information and tags; pull diagnostics; model resolution from local checkpoints and a remote host.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, DiagnosticTag, DidChangeWatchedFilesNotification, DocumentDiagnosticRequest, FileChangeType, type Diagnostic } from 'vscode-languageserver-protocol';
import { writeCheckpoint } from '../../helpers/safetensorsWriter';
import { RemoteModelConfigRequest, type RemoteModelConfigParams } from '../../../src/protocol/languageServer';
import { llamaConfig, llamaTensors } from '../../modelfiles/helpers';
import { buildOnce, EVAL_PLAN, type Fixture, makeFixture, PAPER_PLAN, smolConfig } from '../fixture';
import { LspClient, posOf, PUSH_CAPABILITIES } from '../lspClient';

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => String(d.code)).sort();
const msg = (d: Diagnostic): string => (typeof d.message === 'string' ? d.message : d.message.value);

/** The SL012 message on `model gpu-box:/m` when the client answers the remote-model request with `answer`. */
async function remoteModelError(answer: unknown): Promise<string> {
  const c = await LspClient.start({ env: { HOME: fx.home }, initializationOptions: { remoteModels: true }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  try {
    // By method name: the answer may be malformed on purpose, which the typed request would not let through.
    c.conn.onRequest(RemoteModelConfigRequest.method, () => answer);
    const uri = 'untitled:remote-error.slayer';
    const d = c.diagnostics(uri, 1, (p) => p.diagnostics.some((x) => x.code === 'SL012'));
    await c.open(uri, 'model gpu-box:/m\nexpand (4+1)x8\n');
    return msg((await d).diagnostics.find((x) => x.code === 'SL012')!);
  } finally {
    await c.stop();
  }
}


let fx: Fixture;
before(() => {
  buildOnce();
  fx = makeFixture();
});
after(() => fx.cleanup());

describe('push diagnostics', () => {
  let c: LspClient;
  before(async () => {
    c = await LspClient.start({
      env: { HOME: fx.home },
      workspaceFolders: [{ uri: pathToFileURL(fx.workspace).href, name: 'ws' }],
      settings: { 'slayer.languageServer': { debounceMs: 40 } },
    });
  });
  after(() => c.stop());

  test('the server asks for its settings and registers for configuration and file changes', async () => {
    const deadline = Date.now() + 5000;
    // Registrations and the settings request both follow `initialized`, in either order.
    while ((c.registrations.length < 2 || !c.configurationRequests.includes('slayer.languageServer')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(c.registrations.map((r) => r.method).sort(), ['workspace/didChangeConfiguration', 'workspace/didChangeWatchedFiles']);
    assert.ok(c.configurationRequests.includes('slayer.languageServer'));
    assert.equal(c.init.capabilities.diagnosticProvider, undefined, 'a client without pull support gets pushed diagnostics');
  });

  test('the paper plan opens clean; an edit deleting a third block warns, pointing at what deletes', async () => {
    const uri = fx.uri('paper.slayer');
    const first = c.diagnostics(uri, 1);
    await c.open(uri, PAPER_PLAN);
    const d1 = await first;
    assert.deepEqual(d1.diagnostics, [], 'the paper plan has no diagnostic at all, not even a hint');

    // Replace "13" with "12": one more block deleted from the deep end.
    const at = posOf(PAPER_PLAN, '13 |');
    const next = c.diagnostics(uri, 2);
    await c.change(uri, 2, [{ range: { start: at, end: { line: at.line, character: at.character + 2 } }, text: '12' }]);
    const d2 = (await next).diagnostics;
    assert.deepEqual(codes(d2), ['SL024'], 'the implied deletion makes room for the final block: no SL023 hint');
    const warn = d2.find((d) => d.code === 'SL024')!;
    assert.equal(warn.severity, DiagnosticSeverity.Warning);
    const exprStart = posOf(PAPER_PLAN, '(2+1)');
    assert.deepEqual(warn.range, { start: exprStart, end: { line: exprStart.line, character: exprStart.character + '(2+1)x8 | 12 | 1◇'.length } });
    assert.match(String(warn.codeDescription!.href), /plan-language\.md#sl024$/);
    assert.equal(warn.source, 'slayer');
    assert.deepEqual(warn.relatedInformation!.map((r) => [r.location.range.start, r.message]), [
      [posOf(PAPER_PLAN, '1◇'), 'the segments stop here, so blocks 29–31 (30–32) are deleted'],
    ]);
  });

  test('a burst of keystrokes yields one computation, for the last version, with exact ranges', async () => {
    const uri = fx.uri('burst.slayer');
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1\n';
    const opened = c.diagnostics(uri, 1);
    await c.open(uri, text);
    await opened;
    const before = c.published.length;
    // Type " q3" after "13" one character at a time, each an incremental change.
    const at = posOf(text, ' | 1\n');
    const last = c.diagnostics(uri, 4);
    for (const [i, ch] of [...'q3z'].entries()) {
      await c.change(uri, i + 2, [{ range: { start: { line: at.line, character: at.character + i }, end: { line: at.line, character: at.character + i } }, text: ch }]);
    }
    const d = (await last).diagnostics;
    await new Promise((r) => setTimeout(r, 150));
    const forUri = c.published.slice(before).filter((p) => p.uri === uri);
    assert.deepEqual(forUri.map((p) => p.version), [4], 'versions 2 and 3 were never computed');
    const err = d.find((x) => x.code === 'SL021')!;
    assert.equal(msg(err), 'unexpected "q3z" after the segment "13"');
    assert.deepEqual(err.range, { start: at, end: { line: at.line, character: at.character + 3 } });
  });

  test('duplicates carry related information and fade; a stage setting twice warns', async () => {
    const uri = fx.uri('dup.slayer');
    const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nfinal keep\nexpand (2+1)x8\n';
    const p = c.diagnostics(uri, 1);
    await c.open(uri, text);
    const d = (await p).diagnostics;
    const dup = d.find((x) => x.code === 'SL003')!;
    assert.deepEqual(dup.range.start, posOf(text, 'expand', 0, 1));
    assert.deepEqual(dup.relatedInformation![0]!.location.range.start, { line: 1, character: 0 });
    assert.equal(dup.relatedInformation![0]!.message, 'first given here');
    assert.deepEqual(dup.tags, [DiagnosticTag.Unnecessary]);
    const noEffect = d.find((x) => x.code === 'SL027')!;
    assert.deepEqual(noEffect.tags, [DiagnosticTag.Unnecessary]);
  });

  test('tags and related places as published: each deleting segment, the ignored eval section, a stage setting twice', async () => {
    const shown = (ds: Diagnostic[]): unknown[] => ds.map((d) => [d.code, d.tags ?? null, (d.relatedInformation ?? []).map((r) => [r.location.uri === uri, r.location.range, r.message])]);
    const span = (line: number, from: number, to: number): unknown => ({ start: { line, character: from }, end: { line, character: to } });
    const uri = fx.uri('tags.slayer');
    const deleting = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x4 | -6 | 4 | -2 | 11\nfinal keep\ntrain new\n';
    const p = c.diagnostics(uri, 1);
    await c.open(uri, deleting);
    assert.deepEqual(shown((await p).diagnostics), [
      ['SL023', null, []],
      ['SL025', null, [
        [true, span(1, 17, 19), 'deletes blocks 8–13 (9–14)'],
        [true, span(1, 26, 28), 'deletes blocks 18–19 (19–20)'],
        [true, span(1, 31, 33), 'the segments stop here, so block 31 (32) are deleted'],
      ]],
      ['SL027', [DiagnosticTag.Unnecessary], []],
    ]);
    const duplicates = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x4 | -1 | 4 | 14 | 1\nstage cpt\n  data d\n  lr 2e-4\n  lr 1e-4\neval\n  general hellaswag\neval\n  general arc_easy\n';
    const q = c.diagnostics(uri, 2);
    await c.change(uri, 2, [{ text: duplicates }]);
    assert.deepEqual(shown((await q).diagnostics), [
      ['SL024', null, [
        [true, span(1, 17, 19), 'deletes block 8 (9)'],
        [true, span(1, 31, 32), 'the segments stop here, so blocks 28–31 (29–32) are deleted'],
      ]],
      ['SL003', null, [[true, span(4, 2, 4), 'first set here']]],
      ['SL003', [DiagnosticTag.Unnecessary], [[true, span(6, 0, 4), 'first eval section']]],
    ]);
  });

  test('a local checkpoint directory is read from config.json, and re-read when the watcher says it changed', async () => {
    const uri = fx.uri('local.slayer');
    const text = 'model ./ckpt\nexpand (2+1)x8 | 13 | 1◇\n';
    const p = c.diagnostics(uri, 1);
    await c.open(uri, text);
    // ckpt has 30 blocks: 16 + 13 + 1 = 30 covered, nothing deleted, so no final block: SL027-free, no SL023.
    assert.deepEqual(codes((await p).diagnostics).filter((x) => x !== 'SL031'), []);
    writeFileSync(join(fx.workspace, 'ckpt', 'config.json'), smolConfig(28));
    const q = c.diagnostics(uri, 1, (x) => x.diagnostics.some((y) => y.code === 'SL022'));
    await c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(fx.workspace, 'ckpt', 'config.json')).href, type: FileChangeType.Changed }] });
    const d = (await q).diagnostics;
    const e = d.find((x) => x.code === 'SL022')!;
    assert.match(msg(e), /cover 30 blocks but .*ckpt has 28 \(0–27\): 2 too many/);
  });

  test('200 random incremental edits (some batched in one notification) leave the same text and diagnostics as opening it fresh', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['1', '2', '3', '(', ')', '+', 'x', '|', ' ', '\n', 'a', '-', '◇', '#', 'stage cpt\n  ', 'data d'];
    const posAt = (t: string, off: number): { line: number; character: number } => {
      const before = t.slice(0, off);
      return { line: before.split('\n').length - 1, character: off - before.lastIndexOf('\n') - 1 };
    };
    const uri = fx.uri('fuzz.slayer');
    let text = PAPER_PLAN;
    let v = 1;
    const opened = c.diagnostics(uri, 1);
    await c.open(uri, text);
    await opened;
    for (let i = 0; i < 200; i++) {
      const changes = [];
      for (let k = 0; k < 1 + rand(2); k++) {
        const start = rand(text.length + 1);
        const end = Math.min(text.length, start + rand(4));
        const insert = alphabet[rand(alphabet.length)]!;
        changes.push({ range: { start: posAt(text, start), end: posAt(text, end) }, text: insert });
        text = text.slice(0, start) + insert + text.slice(end);
      }
      await c.change(uri, ++v, changes);
    }
    const last = (await c.diagnostics(uri, v)).diagnostics;
    const freshUri = fx.uri('fuzz-fresh.slayer');
    const fresh = c.diagnostics(freshUri, 1);
    await c.open(freshUri, text);
    // Related information names its own document: compare with the URIs made equal.
    assert.deepEqual(last, JSON.parse(JSON.stringify((await fresh).diagnostics).replaceAll(freshUri, uri)));
    assert.ok(last.length > 0, 'the edits broke the plan somewhere');
  });

  test('a local checkpoint whose weights disagree with its config.json: the headers are read and the model line says so', async () => {
    const dims = { layers: 3, hidden: 16, intermediate: 40, heads: 4, kvHeads: 2, vocab: 50 };
    const dir = join(fx.workspace, 'mismatch');
    // config.json says 4 blocks; the weights (sparse holes: only headers matter) have 3.
    await writeCheckpoint(dir, [llamaTensors(dims, 'BF16', () => null)], llamaConfig({ ...dims, layers: 4 }));
    const uri = fx.uri('mismatch.slayer');
    const text = 'model ./mismatch\nexpand (1+1)x2 | 2\n';
    await c.open(uri, text);
    const d = await c.diagnostics(uri, 1, (p) => p.diagnostics.some((x) => msg(x).startsWith("the checkpoint's weights")));
    const finding = d.diagnostics.find((x) => msg(x).startsWith("the checkpoint's weights"))!;
    assert.equal(finding.code, 'SL012');
    assert.equal(finding.severity, DiagnosticSeverity.Error);
    assert.match(msg(finding), /config\.json num_hidden_layers is 4, but the checkpoint has 3 blocks/);
    assert.deepEqual(finding.range, { start: { line: 0, character: 6 }, end: { line: 0, character: 16 } });
    // The weights are fixed: a watched-file change clears the finding.
    await writeCheckpoint(dir, [llamaTensors({ ...dims, layers: 4 }, 'BF16', () => null)]);
    const fixed = c.diagnostics(uri, 1, (p) => !p.diagnostics.some((x) => msg(x).startsWith("the checkpoint's weights")));
    await c.conn.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(dir, 'model.safetensors')).href, type: FileChangeType.Changed }] });
    await fixed;
  });

  test('eval diagnostics: an unknown task is a warning at the name, off-protocol shots an info at the value', async () => {
    const uri = fx.uri('eval.slayer');
    const p = c.diagnostics(uri, 1);
    await c.open(uri, EVAL_PLAN);
    const { diagnostics } = await p;
    const unknown = diagnostics.find((d) => d.code === 'SL060')!;
    assert.equal(unknown.severity, 2);
    assert.deepEqual(unknown.range.start, posOf(EVAL_PLAN, 'hellaswagg'));
    assert.match(typeof unknown.message === 'string' ? unknown.message : unknown.message.value, /did you mean "hellaswag"/);
    const shots = diagnostics.find((d) => d.code === 'SL061')!;
    assert.equal(shots.severity, 3);
    assert.deepEqual(shots.range.start, posOf(EVAL_PLAN, '0\n'));
    assert.ok(!diagnostics.some((d) => d.severity === 1), JSON.stringify(diagnostics));
  });

  test('a missing directory and an unknown model are errors on the model value', async () => {
    const uri = fx.uri('missing.slayer');
    const text = 'model ./nothing-here\nexpand (2+1)x8\n';
    const p = c.diagnostics(uri, 1);
    await c.open(uri, text);
    const e = (await p).diagnostics.find((x) => x.code === 'SL011')!;
    assert.deepEqual(e.range, { start: { line: 0, character: 6 }, end: { line: 0, character: 20 } });
    assert.equal(e.severity, DiagnosticSeverity.Error);
  });
});

describe('remote models through the client', () => {
  test('host:/path is pending, then checked against the config the client read, with one request', async () => {
    const requests: RemoteModelConfigParams[] = [];
    const c = await LspClient.start({ env: { HOME: fx.home }, initializationOptions: { remoteModels: true }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
    try {
      c.conn.onRequest(RemoteModelConfigRequest, async (p) => {
        requests.push(p);
        await new Promise((r) => setTimeout(r, 100));
        return { status: 'ok', configJson: smolConfig(24) };
      });
      const uri = 'untitled:remote.slayer';
      const first = c.diagnostics(uri, 1);
      await c.open(uri, 'model gpu-box:/models/smol\nexpand (2+1)x8 | 9\n');
      const pending = (await first).diagnostics;
      assert.deepEqual(codes(pending), ['SL013']);
      assert.equal(msg(pending[0]!), 'reading /models/smol/config.json on gpu-box…');
      // The answer arrives: the document is checked again, against the host's 24 blocks.
      const second = (await c.diagnostics(uri, 1, (p) => !p.diagnostics.some((d) => d.code === 'SL013'))).diagnostics;
      assert.deepEqual(codes(second), ['SL022']);
      assert.equal(msg(second[0]!), 'the segments cover 25 blocks but gpu-box:/models/smol has 24 (0–23): 1 too many');
      assert.deepEqual(requests, [{ host: 'gpu-box', path: '/models/smol' }]);
    } finally {
      await c.stop();
    }
  });

  test('an error from the client is shown on the model', async () => {
    const answer = { status: 'error', message: 'gpu-box:/nope: cat: /nope/config.json: No such file or directory' };
    assert.match(await remoteModelError(answer), /cannot read the model on gpu-box: .*No such file/);
  });

  test('a malformed answer from the client is an error on the model, not a crash', async () => {
    assert.match(await remoteModelError({ status: 'ok', config: '{}' }), /malformed answer/);
  });
});

describe('clients with fewer capabilities', () => {
  test('without relatedInformation support, the related places are named in the message', async () => {
    const caps = { ...PUSH_CAPABILITIES, textDocument: { ...PUSH_CAPABILITIES.textDocument, publishDiagnostics: { relatedInformation: false } } };
    const c = await LspClient.start({ env: { HOME: fx.home }, capabilities: caps });
    try {
      const uri = 'untitled:norelated.slayer';
      const p = c.diagnostics(uri, 1);
      await c.open(uri, 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nmodel Qwen/Qwen2.5-7B\n');
      const dup = (await p).diagnostics.find((d) => d.code === 'SL003')!;
      assert.equal(dup.relatedInformation, undefined);
      assert.equal(msg(dup), '"model" is given twice; only the first one counts (first given here: line 1)');
    } finally {
      await c.stop();
    }
  });
});

describe('pull diagnostics', () => {
  test('when a remote model answer arrives, a pulling client is asked to refresh, and the next pull sees the model', async () => {
    const caps = { ...PUSH_CAPABILITIES, workspace: { ...PUSH_CAPABILITIES.workspace, diagnostics: { refreshSupport: true } }, textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false } } };
    const c = await LspClient.start({ env: { HOME: fx.home }, capabilities: caps, initializationOptions: { remoteModels: true } });
    try {
      let refreshed!: () => void;
      const refresh = new Promise<void>((r) => (refreshed = r));
      c.conn.onRequest('workspace/diagnostic/refresh', () => {
        refreshed();
        return null;
      });
      c.conn.onRequest(RemoteModelConfigRequest, () => ({ status: 'ok' as const, configJson: smolConfig(20) }));
      const uri = 'untitled:pull-remote.slayer';
      await c.open(uri, 'model box:/m\nexpand (2+1)x8 | 9\n');
      const r1 = await c.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
      assert.deepEqual(r1.kind === 'full' ? codes(r1.items) : [], ['SL013']);
      await refresh;
      const r2 = await c.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: r1.resultId });
      assert.equal(r2.kind, 'full', 'same version, but the model resolved: a new report');
      assert.deepEqual(r2.kind === 'full' ? r2.items.map(msg) : [], ['the segments cover 25 blocks but box:/m has 20 (0–19): 5 too many']);
    } finally {
      await c.stop();
    }
  });


  test('a client that pulls gets a full report, then "unchanged" for the same version', async () => {
    const c = await LspClient.start({ env: { HOME: fx.home }, capabilities: { ...PUSH_CAPABILITIES, textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false } } } });
    try {
      assert.deepEqual(c.init.capabilities.diagnosticProvider, { identifier: 'slayer', interFileDependencies: false, workspaceDiagnostics: false });
      const uri = 'untitled:pull.slayer';
      await c.open(uri, 'modle meta-llama/Llama-2-7b-hf\nexpand (2+1)x8\n');
      const r1 = await c.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri } });
      assert.equal(r1.kind, 'full');
      const items = r1.kind === 'full' ? r1.items : [];
      assert.deepEqual(codes(items), ['SL002', 'SL010']);
      assert.deepEqual(items.find((d) => d.code === 'SL002')!.range, { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } });
      const r2 = await c.conn.sendRequest(DocumentDiagnosticRequest.type, { textDocument: { uri }, previousResultId: r1.resultId });
      assert.equal(r2.kind, 'unchanged');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(c.published.length, 0, 'nothing is pushed to a pulling client');
    } finally {
      await c.stop();
    }
  });
});
