// Completion (language-server/service/completion.ts) over real JSON-RPC: hosts, model ids and
// directories, dataset names of the workspace, keys and enumerations; eval keys, tasks and options.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MarkupContent, type TextEdit } from 'vscode-languageserver-protocol';
import { EVAL_PLAN, PAPER_PLAN, useWorkspaceServer } from '../fixture';
import { posOf } from '../lspClient';

const s = useWorkspaceServer();


test('hosts after "run on": ~/.ssh/config aliases without wildcards, following Include, and localhost', async () => {
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\nrun on \n';
  const { uri } = await s.show('run.slayer', text);
  const labels = (await s.complete(uri, { line: 2, character: 7 })).map((i) => i.label);
  assert.deepEqual(labels, ['gpu-box', 'a100-box', 'cluster-a', 'login-node', 'localhost']);
});

test('model ids from the catalogue, local checkpoint directories, and directory listing while typing a path', async () => {
  const text = 'model \nexpand (4+1)x8\n';
  const { uri } = await s.show('model.slayer', text);
  const items = await s.complete(uri, { line: 0, character: 6 });
  const labels = items.map((i) => i.label);
  assert.ok(labels.includes('meta-llama/Llama-2-7b-hf'));
  assert.ok(labels.includes('Qwen/Qwen2.5-7B'));
  assert.ok(labels.includes('./ckpt') && labels.includes('./models/tiny'), labels.join(' '));
  assert.equal(items.find((i) => i.label === 'meta-llama/Llama-2-7b-hf')!.detail, '32 blocks, hidden 4096 (catalogue)');
  const typed = 'model ./models/\nexpand (4+1)x8\n';
  await s.show('model.slayer', typed);
  const dirs = await s.complete(uri, { line: 0, character: 15 });
  assert.deepEqual(dirs.map((i) => [i.label, i.detail]), [['tiny', 'checkpoint (config.json)']]);
  const edit = dirs[0]!.textEdit as TextEdit;
  assert.deepEqual(edit.range, { start: { line: 0, character: 15 }, end: { line: 0, character: 15 } });
});

test('dataset names used in the workspace after "data", keys at the start of lines, enumerations', async () => {
  await s.show('paper.slayer', PAPER_PLAN); // its datasets are offered too
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\ninit \ntrain new, \n\nstage cpt\n  data corpus-a, \n  \n';
  const { uri } = await s.show('data.slayer', text);
  const data = (await s.complete(uri, { line: 6, character: 17 })).map((i) => i.label);
  // From another plan in the workspace and from the open paper plan; corpus-a is already on the line.
  assert.deepEqual(data, ['my-instructions', 'openhermes', 'proof-pile-2', 'the-stack-dedup/python']);
  const stageKeys = (await s.complete(uri, { line: 7, character: 2 })).map((i) => i.label);
  assert.ok(stageKeys.includes('tokens') && stageKeys.includes('weight-decay') && !stageKeys.includes('model'));
  assert.deepEqual((await s.complete(uri, { line: 2, character: 5 })).map((i) => i.label), ['copy', 'average']);
  assert.deepEqual((await s.complete(uri, { line: 3, character: 11 })).map((i) => i.label), ['final', 'kept', 'head', 'norm', 'embed', 'all', 'last']);
});

test('eval completion: keys, the catalogue (own group first), task options, metric and when values', async () => {
  const { uri } = await s.show('eval.slayer', EVAL_PLAN);
  const keys = (await s.complete(uri, { line: 9, character: 2 })).map((i) => i.label);
  assert.deepEqual(keys, ['domain', 'general', 'perplexity', 'when', 'limit', 'chat-template', 'batch', 'seq', 'seed']);
  const tasks = (await s.complete(uri, posOf(EVAL_PLAN, 'gsm8k')));
  const byGroup = [...tasks].sort((x, y) => x.sortText!.localeCompare(y.sortText!)).map((i) => i.label);
  assert.deepEqual(byGroup.slice(0, 4), ['gsm8k', 'humaneval', 'mbpp', 'minerva_math']);
  for (const t of ['arc_challenge', 'hellaswag', 'mmlu', 'truthfulqa_mc2', 'winogrande']) assert.ok(byGroup.includes(t), t);
  const arc = tasks.find((i) => i.label === 'arc_challenge')!;
  assert.equal(arc.detail, 'ARC: 25-shot, acc_norm (general)');
  assert.match((arc.documentation as MarkupContent).value, /LLaMA Pro 8\.3B 54\.10, LLaMA2-7B 53\.07/);
  const { uri: u1 } = await s.show('eval.slayer', EVAL_PLAN.replace('  \n', '  domain mmlu shots 5 \n'));
  assert.deepEqual((await s.complete(u1, { line: 9, character: 22 })).map((i) => i.label), ['metric', 'limit', 'chat-template']);
  const text2 = EVAL_PLAN.replace('  \n', '  domain gsm8k metric \n');
  const { uri: u2 } = await s.show('eval.slayer', text2);
  const metrics = (await s.complete(u2, { line: 9, character: 22 })).map((i) => i.label);
  assert.equal(metrics[0], 'exact_match,strict-match');
  const when = (await s.complete(u2, posOf(text2, 'base, final', 6))).map((i) => i.label);
  assert.deepEqual(when, ['expanded', 'each-stage', 'final']);
});
