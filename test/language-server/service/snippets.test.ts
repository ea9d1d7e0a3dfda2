// Snippets (language-server/service/snippets.ts) over real JSON-RPC: a whole plan and the paper's plans
// at the start of a top-level line, keys already given sorted last, the paper's eval protocol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type TextEdit } from 'vscode-languageserver-protocol';
import { EVAL_PLAN, useWorkspaceServer } from '../fixture';

const s = useWorkspaceServer();


test('snippets for a whole plan and the paper\'s plans at the start of a top-level line', async () => {
  const { uri } = await s.show('empty.slayer', '\n');
  const items = await s.complete(uri, { line: 0, character: 0 });
  const labels = items.map((i) => i.label);
  for (const l of ['model', 'expand', 'stage', 'plan', 'plan: SLayer-8B (paper)', 'plan: LLaMA Pro', 'plan: Table 3, 3 deleted']) assert.ok(labels.includes(l), l);
  // Keys already in a plan sort after the others.
  const withModel = 'model meta-llama/Llama-2-7b-hf\n\n';
  await s.show('empty.slayer', withModel);
  const keys = (await s.complete(uri, { line: 1, character: 0 })).filter((i) => i.kind === 14).sort((x, y) => x.sortText!.localeCompare(y.sortText!));
  assert.deepEqual(keys.map((i) => i.label), ['expand', 'init', 'zero', 'final', 'train', 'stage', 'eval', 'sweep', 'run', 'model']);
  assert.equal(keys[keys.length - 1]!.detail, 'already given on line 1');
  const paper = items.find((i) => i.label === 'plan: SLayer-8B (paper)')!;
  assert.equal(paper.insertTextFormat, 2);
  assert.match((paper.textEdit as TextEdit).newText, /^model {3}\$\{1:meta-llama\/Llama-2-7b-hf\}\nexpand {2}\(2\+1\)x8 \| 13 \| 1◇\n/);
});

test("the paper's protocol snippet at the start of a top-level line", async () => {
  const { uri } = await s.show('eval.slayer', EVAL_PLAN);
  const items = await s.complete(uri, { line: 2, character: 0 });
  const snip = items.find((i) => i.label === "eval: the paper's protocol")!;
  const body = (snip.textEdit as TextEdit).newText;
  assert.match(body, /^eval\n/);
  assert.match(body, /general {2}arc_challenge {3}shots 25 metric acc_norm/);
  assert.match(body, /domain {3}humaneval {7}shots 0 {2}metric pass@1/);
});
