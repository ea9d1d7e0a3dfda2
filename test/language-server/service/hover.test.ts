// Hovers (language-server/service/hover.ts) over real JSON-RPC: the expansion's blocks, parameters and
// memory; a segment's original blocks; keys, values, the model; eval tasks with their protocol.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVAL_PLAN, PAPER_PLAN, useWorkspaceServer } from '../fixture';
import { posOf } from '../lspClient';

const s = useWorkspaceServer();


test('the expansion: depth L + N − D, parameters with and without the head, memory per GPU, the table of blocks', async () => {
  const { uri } = await s.show('paper.slayer', PAPER_PLAN);
  const text = await s.hoverText(uri, posOf(PAPER_PLAN, ' | 13', 1));
  assert.match(text, /Depth: L \+ N − D = 32 \+ 8 − 2 = \*\*38\*\* blocks/);
  assert.match(text, /Deleted: 30 \(31\), 31 \(32\)/);
  assert.match(text, /\| total \| 7,952,715,776 \(7\.95B\) \|/);
  assert.match(text, /\| trainable, blocks only \| 1,821,450,240 /);
  assert.match(text, /\| trainable, with the head \| 1,952,522,240 /);
  // bf16 over 8 GPUs (run on a100-box gpus 8): DDP holds everything on each GPU.
  // 7,952,715,776 × 2 bytes of bf16 weights + 1,952,522,240 trainable × (2 + 8 + 4) bytes = 40.3 GiB;
  // sharded over 8 GPUs: 5.0 GiB.
  assert.match(text, /Training memory per GPU \(bf16, before activations\): DDP \*\*40\.3 GiB\*\*; FSDP over 8 GPUs \*\*5\.0 GiB\*\*/);
  assert.match(text, /\(DDP: weights 14\.8 GiB, gradients 3\.6 GiB, AdamW moments 14\.5 GiB, fp32 master 7\.3 GiB\)/);
  assert.match(text, /\| 2 \| new \| 1 \(2\) \+ 2 \(3\) \| average \| o_proj, down_proj \| yes \|/);
  assert.match(text, /\| 37 \| final \| 29 \(30\) \+ 30 \(31\) \+ 31 \(32\) \| final-average \| — \| yes \|/);
  assert.match(text, /\| 36 \| kept \| 28 \(29\) \| kept \| — \| no \|/);
  assert.equal(text.split('\n').filter((l) => /^\| \d+ \|/.test(l)).length, 38);
});

test('a segment: the original blocks it covers, 0-based with the paper\'s 1-based in parentheses', async () => {
  const uri = s.fx.uri('paper.slayer');
  const seg13 = await s.hoverText(uri, posOf(PAPER_PLAN, '13 |', 1));
  assert.match(seg13, /\*\*Segment `13`\*\*\n\nCovers original blocks 16–28 \(17–29\)\.\nProduces output blocks 24–36\./);
  const group = await s.hoverText(uri, posOf(PAPER_PLAN, '(2+1)x8', 3));
  assert.match(group, /Covers original blocks 0–15 \(1–16\)\.\nProduces output blocks 0–23\.\nNew blocks: 2, 5, 8, 11, 14, 17, 20, 23\./);
  const final = await s.hoverText(uri, posOf(PAPER_PLAN, '1◇'));
  assert.match(final, /Covers original block 29 \(30\)\.[\s\S]*updated final block \(output 37\)/);
});

test('keys, values and the model have documentation', async () => {
  const uri = s.fx.uri('paper.slayer');
  assert.match(await s.hoverText(uri, posOf(PAPER_PLAN, 'train ', 2)), /^\*\*train\*\* — What trains: any of `new`, `final`/);
  assert.match(await s.hoverText(uri, posOf(PAPER_PLAN, 'tokens', 1)), /^\*\*tokens\*\* — Token budget/);
  assert.match(await s.hoverText(uri, posOf(PAPER_PLAN, 'head', 1)), /^\*\*head\*\* — The output head/);
  assert.match(await s.hoverText(uri, posOf(PAPER_PLAN, 'gpus', 1)), /^\*\*gpus\*\*/);
  const model = await s.hoverText(uri, posOf(PAPER_PLAN, 'Llama-2', 2));
  assert.match(model, /\*\*meta-llama\/Llama-2-7b-hf\*\* \(built-in catalogue\)\n\nllama, 32 blocks \(0–31\), hidden 4096/);
  assert.equal(await s.hoverText(uri, posOf(PAPER_PLAN, 'SLayer-8B')), '', 'comments have no hover');
});

test('eval hovers: a catalogue task shows its protocol and published scores; keys their eval meaning', async () => {
  const { uri } = await s.show('eval.slayer', EVAL_PLAN);
  const gsm = await s.hoverText(uri, posOf(EVAL_PLAN, 'gsm8k', 2));
  assert.match(gsm, /GSM8K/);
  assert.match(gsm, /5-shot, metric `exact_match,strict-match`/);
  assert.match(gsm, /LLaMA Pro 8\.3B 17\.89, LLaMA2-7B 14\.48/);
  assert.match(await s.hoverText(uri, posOf(EVAL_PLAN, 'legal.yaml')), /local lm-evaluation-harness task config/);
  assert.match(await s.hoverText(uri, posOf(EVAL_PLAN, 'perplexity')), /token-weighted loss/);
});
