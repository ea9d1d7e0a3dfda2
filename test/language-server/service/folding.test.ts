// Folding ranges (language-server/service/folding.ts) over real JSON-RPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FoldingRangeRequest } from 'vscode-languageserver-protocol';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('folding: stage blocks and runs of comments', async () => {
  const text = '# a\n# b\nmodel meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nstage cpt\n  data x\n  tokens 1B\n\nstage sft\n  data y\n';
  const { uri } = await s.show('fold.slayer', text);
  const f = await s.c.conn.sendRequest(FoldingRangeRequest.type, { textDocument: { uri } });
  assert.deepEqual(f!.map((r) => [r.startLine, r.endLine, r.kind ?? '']), [[0, 1, 'comment'], [4, 6, ''], [8, 9, '']]);
});
