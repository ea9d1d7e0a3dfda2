// Formatting (language-server/service/formatting.ts) over real JSON-RPC: one edit, idempotent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentFormattingRequest } from 'vscode-languageserver-protocol';
import { applyEdits } from '../lspClient';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('formatting: aligned columns and canonical notation, in one edit; nothing to do on formatted text', async () => {
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)×8   13|1<>\ntrain new, final  # t\nstage cpt\n    data x\n    tokens 1B\n';
  const { uri } = await s.show('format.slayer', text);
  const edits = await s.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
  const formatted = applyEdits(text, edits!);
  assert.equal(formatted, 'model   meta-llama/Llama-2-7b-hf\nexpand  (2+1)x8 | 13 | 1◇\ntrain   new, final  # t\nstage cpt\n  data    x\n  tokens  1B\n');
  await s.show('format.slayer', formatted);
  assert.deepEqual(await s.c.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } }), []);
});
