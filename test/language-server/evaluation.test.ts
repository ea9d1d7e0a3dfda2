// The eval section in the editor, over real JSON-RPC against the spawned server: positioned
// diagnostics, completion of keys, catalogue tasks, task options and values, hovers on tasks,
// and the paper's protocol snippet.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MarkupContent, type TextEdit } from 'vscode-languageserver-protocol';
import { useWorkspaceServer } from './fixture';
import { posOf } from './lspClient';

const ls = useWorkspaceServer();
const { hoverText, complete } = ls;
const show = (text: string): ReturnType<typeof ls.show> => ls.show('eval.slayer', text);

const PLAN = `model meta-llama/Llama-2-7b-hf
expand (2+1)x8 | 13 | 1◇
eval
  when base, final
  domain gsm8k shots 5
  general hellaswagg
  general arc_challenge shots 0
  domain ./tasks/legal.yaml
  perplexity domain heldout.txt
  
`;

test('eval diagnostics: an unknown task is a warning at the name, off-protocol shots an info at the value', async () => {
  const { diagnostics } = await show(PLAN);
  const unknown = diagnostics.find((d) => d.code === 'SL060')!;
  assert.equal(unknown.severity, 2);
  assert.deepEqual(unknown.range.start, posOf(PLAN, 'hellaswagg'));
  assert.match(typeof unknown.message === 'string' ? unknown.message : unknown.message.value, /did you mean "hellaswag"/);
  const shots = diagnostics.find((d) => d.code === 'SL061')!;
  assert.equal(shots.severity, 3);
  assert.deepEqual(shots.range.start, posOf(PLAN, '0\n'));
  assert.ok(!diagnostics.some((d) => d.severity === 1), JSON.stringify(diagnostics));
});

test('eval completion: keys, the catalogue (own group first), task options, metric and when values', async () => {
  const { uri } = await show(PLAN);
  const keys = (await complete(uri, { line: 9, character: 2 })).map((i) => i.label);
  assert.deepEqual(keys, ['domain', 'general', 'perplexity', 'when', 'limit', 'chat-template', 'batch', 'seq', 'seed']);
  const tasks = (await complete(uri, posOf(PLAN, 'gsm8k')));
  const byGroup = [...tasks].sort((x, y) => x.sortText!.localeCompare(y.sortText!)).map((i) => i.label);
  assert.deepEqual(byGroup.slice(0, 4), ['gsm8k', 'humaneval', 'mbpp', 'minerva_math']);
  for (const t of ['arc_challenge', 'hellaswag', 'mmlu', 'truthfulqa_mc2', 'winogrande']) assert.ok(byGroup.includes(t), t);
  const arc = tasks.find((i) => i.label === 'arc_challenge')!;
  assert.equal(arc.detail, 'ARC: 25-shot, acc_norm (general)');
  assert.match((arc.documentation as MarkupContent).value, /LLaMA Pro 8\.3B 54\.10, LLaMA2-7B 53\.07/);
  const { uri: u1 } = await show(PLAN.replace('  \n', '  domain mmlu shots 5 \n'));
  assert.deepEqual((await complete(u1, { line: 9, character: 22 })).map((i) => i.label), ['metric', 'limit', 'chat-template']);
  const text2 = PLAN.replace('  \n', '  domain gsm8k metric \n');
  const { uri: u2 } = await show(text2);
  const metrics = (await complete(u2, { line: 9, character: 22 })).map((i) => i.label);
  assert.equal(metrics[0], 'exact_match,strict-match');
  const when = (await complete(u2, posOf(text2, 'base, final', 6))).map((i) => i.label);
  assert.deepEqual(when, ['expanded', 'each-stage', 'final']);
});

test('eval hovers: a catalogue task shows its protocol and published scores; keys their eval meaning', async () => {
  const { uri } = await show(PLAN);
  const gsm = await hoverText(uri, posOf(PLAN, 'gsm8k', 2));
  assert.match(gsm, /GSM8K/);
  assert.match(gsm, /5-shot, metric `exact_match,strict-match`/);
  assert.match(gsm, /LLaMA Pro 8\.3B 17\.89, LLaMA2-7B 14\.48/);
  assert.match(await hoverText(uri, posOf(PLAN, 'legal.yaml')), /local lm-evaluation-harness task config/);
  assert.match(await hoverText(uri, posOf(PLAN, 'perplexity')), /token-weighted loss/);
});

test("the paper's protocol snippet at the start of a top-level line", async () => {
  const { uri } = await show(PLAN);
  const items = await complete(uri, { line: 2, character: 0 });
  const snip = items.find((i) => i.label === "eval: the paper's protocol")!;
  const body = (snip.textEdit as TextEdit).newText;
  assert.match(body, /^eval\n/);
  assert.match(body, /general {2}arc_challenge {3}shots 25 metric acc_norm/);
  assert.match(body, /domain {3}humaneval {7}shots 0 {2}metric pass@1/);
});
