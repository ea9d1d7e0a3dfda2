// Document symbols (language-server/service/symbols.ts) over real JSON-RPC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentSymbolRequest, type DocumentSymbol } from 'vscode-languageserver-protocol';
import { PAPER_PLAN } from '../fixture';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('symbols: model, expansion with its segments, stages with settings, run', async () => {
  const { uri } = await s.show('paper.slayer', PAPER_PLAN);
  const syms = (await s.c.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
  assert.deepEqual(syms.map((s) => s.name), ['model meta-llama/Llama-2-7b-hf', 'expand (2+1)x8 | 13 | 1◇', 'train new, final, head', 'stage cpt', 'run on a100-box gpus 8']);
  assert.deepEqual(syms[1]!.children!.map((s) => [s.name, s.detail]), [['(2+1)x8', '→ output 0–23'], ['13', '→ output 24–36'], ['1◇', '→ output 37–37']]);
  assert.equal(syms[1]!.detail, '38 blocks');
  assert.deepEqual(syms[3]!.children!.map((s) => s.name.split(' ')[0]), ['data', 'tokens', 'lr', 'warmup', 'batch', 'epochs']);
  assert.deepEqual(syms[3]!.range, { start: { line: 5, character: 0 }, end: { line: 10, character: 12 } });
});
