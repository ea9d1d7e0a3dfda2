// Code lenses (language-server/service/codeLens.ts) over real JSON-RPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeLensRequest } from 'vscode-languageserver-protocol';
import { PAPER_PLAN } from '../fixture';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('code lenses on the expansion line call the registered commands with the document', async () => {
  const uri = s.fx.uri('paper.slayer');
  await s.show('paper.slayer', PAPER_PLAN);
  const lenses = await s.c.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
  assert.deepEqual(lenses!.map((l) => [l.range.start.line, l.command!.title, l.command!.command, l.command!.arguments]), [
    [2, '$(play) Run Expansion', 'slayer.runExpansion', [uri]],
    [2, '$(graph) Layer Importance', 'slayer.showImportance', [uri]],
    [2, '$(layers) Preview Layer Map', 'slayer.showLayerMap', [uri]],
  ]);
});
