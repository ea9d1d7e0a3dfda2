// Semantic tokens (language-server/service/semanticTokens.ts) over real JSON-RPC: keys, numbers and
// operators of the expression, comments, values; deleted blocks marked deprecated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SemanticTokensRequest } from 'vscode-languageserver-protocol';
import { PAPER_PLAN } from '../fixture';
import { useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();

test('semantic tokens: keys, numbers and operators of the expression, comments, values', async () => {
  const { uri } = await s.show('paper.slayer', PAPER_PLAN);
  const legend = s.c.init.capabilities.semanticTokensProvider!.legend;
  const r = await s.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } });
  const data = r!.data;
  const tokens: { line: number; char: number; text: string; type: string; mods: string[] }[] = [];
  let line = 0;
  let char = 0;
  const lines = PAPER_PLAN.split('\n');
  for (let i = 0; i < data.length; i += 5) {
    line += data[i]!;
    char = data[i]! === 0 ? char + data[i + 1]! : data[i + 1]!;
    tokens.push({ line, char, text: lines[line]!.slice(char, char + data[i + 2]!), type: legend.tokenTypes[data[i + 3]!]!, mods: legend.tokenModifiers.filter((_, b) => data[i + 4]! & (1 << b)) });
  }
  const on = (l: number): string[] => tokens.filter((t) => t.line === l).map((t) => `${t.text}:${t.type}`);
  assert.deepEqual(on(0), ['# SLayer-8B:comment']);
  assert.deepEqual(on(1), ['model:keyword', 'meta-llama/Llama-2-7b-hf:string']);
  assert.deepEqual(on(2), ['expand:keyword', '(:operator', '2:number', '+:operator', '1:number', '):operator', 'x:operator', '8:number', '|:operator', '13:number', '|:operator', '1:number', '◇:macro']);
  assert.deepEqual(on(3), ['train:keyword', 'new:enumMember', 'final:enumMember', 'head:enumMember']);
  assert.ok(on(8).includes('cosine:enumMember'), on(8).join(' '));
  assert.deepEqual(on(5), ['stage:keyword', 'cpt:variable']);
  assert.deepEqual(on(6), ['data:property', 'proof-pile-2:string', '5:number', 'the-stack-dedup/python:string', '2:number']);
  assert.deepEqual(on(12), ['run:keyword', 'on:parameter', 'a100-box:namespace', 'gpus:parameter', '8:number']);
  assert.deepEqual(tokens.find((t) => t.text === 'cpt')!.mods, ['declaration']);
});

test('deleted blocks are marked deprecated in the expression', async () => {
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇ | -2\n';
  const { uri } = await s.show('deleted.slayer', text);
  const legend = s.c.init.capabilities.semanticTokensProvider!.legend;
  const data = (await s.c.conn.sendRequest(SemanticTokensRequest.type, { textDocument: { uri } }))!.data;
  const last = data.slice(-10);
  assert.deepEqual([legend.tokenTypes[last[3]!], legend.tokenTypes[last[8]!]], ['operator', 'number']);
  assert.equal(legend.tokenModifiers[Math.log2(last[9]!)], 'deprecated');
});
