// The server (language-server/server.ts) over real JSON-RPC: settings read again on change; every
// request answers at every position of a broken plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeActionRequest, CodeLensRequest, DidChangeConfigurationNotification, DocumentFormattingRequest, DocumentSymbolRequest, FoldingRangeRequest, HoverRequest, InlayHintRequest, SemanticTokensRequest } from 'vscode-languageserver-protocol';
import { PAPER_PLAN } from './fixture';
import { useWorkspaceServer } from './fixture';

const s = useWorkspaceServer();

test('a configuration change is read again: inlay hints turned off', async () => {
  const { uri } = await s.show('paper.slayer', PAPER_PLAN);
  const hints = async (): Promise<number> => ((await s.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } })) ?? []).length;
  assert.equal(await hints(), 5);
  s.c.settings['slayer.languageServer'] = { debounceMs: 0, inlayHints: false };
  const asked = s.c.configurationRequests.length;
  await s.c.conn.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  const deadline = Date.now() + 5000;
  while (s.c.configurationRequests.length === asked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(await hints(), 0);
  s.c.settings['slayer.languageServer'] = { debounceMs: 0 };
});

test('hover and completion answer at every position of a broken plan; the other requests answer too', async () => {
  const text = '  # x\nmodel\nexpand (2+|x3 ◇◇ -0 (0+1)x0 −\ntrain ,,new,\nzero none, o_proj\nstage\n  data a:, :2, b c\n  lr\n\tbatch 1 y 2 precision\nstage s cpt extra\nrun on bad$host gpus 0 nodes\nmodle ./x  # c\n';
  const { uri } = await s.show('broken.slayer', text);
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    for (let character = 0; character <= lines[line]!.length; character++) {
      await s.c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character } });
      await s.complete(uri, { line, character });
    }
  }
  const whole = { start: { line: 0, character: 0 }, end: { line: lines.length, character: 0 } };
  assert.ok(Array.isArray(await s.c.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: whole })));
  assert.ok((await s.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data.length > 0);
  assert.ok((await s.c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }))!.length > 0);
  assert.ok(Array.isArray(await s.c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } })));
  assert.ok(Array.isArray(await s.c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: whole, context: { diagnostics: [] } })));
  assert.ok(Array.isArray(await s.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })));
  assert.deepEqual(await s.c.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } }).then((l) => l!.length), 3);
});
