// Thousands of seeded random mutations of valid plans: the core never throws, never hangs, and
// every diagnostic (and every fix edit) lies inside the document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzePlan, formatPlan } from '../../src/core';
import { prng as rng } from '../helpers/prng';

const ALPHABET = ['(', ')', '+', 'x', '×', '*', '|', '-', '◇', '<>', '~', '0', '1', '2', '9', '13', ' ', '\n', '\t', '#', ':', ',', '%', 'B', 'e', 'stage ', 'cpt', 'sft', 'model ', 'expand ', 'run on ', 'gpus ', '  lr ', '  data ', '\r\n', '💥', '\u0000'];

const SEEDS = [
  readFileSync(`${__dirname}/../../examples/slayer-8b.slayer`, 'utf8'),
  'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n',
  'model Qwen/Qwen2.5-0.5B\nexpand (2+1)x3 (4+1)x3 | 5 | 1~ | -1\ninit average\nzero o_proj\nfinal average-deleted\ntrain new, final, norm\n',
];

test('5,000 random mutations never throw and keep every range inside the document', () => {
  const rand = rng(20261124);
  const started = Date.now();
  for (let n = 0; n < 5000; n++) {
    let text = SEEDS[n % SEEDS.length]!;
    const edits = 1 + Math.floor(rand() * 6);
    for (let e = 0; e < edits; e++) {
      const pos = Math.floor(rand() * (text.length + 1));
      const op = rand();
      if (op < 0.4) text = text.slice(0, pos) + ALPHABET[Math.floor(rand() * ALPHABET.length)]! + text.slice(pos);
      else if (op < 0.8) text = text.slice(0, pos) + text.slice(pos + 1 + Math.floor(rand() * 4));
      else {
        const other = Math.floor(rand() * (text.length + 1));
        text = text.slice(0, pos) + text.slice(other, other + 10) + text.slice(pos);
      }
    }
    const a = analyzePlan(text);
    for (const d of a.diagnostics) {
      assert.ok(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= text.length, `range ${JSON.stringify(d.span)} outside ${text.length}: ${JSON.stringify(text)}`);
      for (const f of d.fixes) for (const ed of f.edits) assert.ok(ed.span.start >= 0 && ed.span.end <= text.length);
      for (const r of d.related) assert.ok(r.span.end <= text.length);
    }
    if (a.layerMap) assert.equal(a.layerMap.blocks.length, a.layerMap.result.numLayers);
    formatPlan(text);
  }
  assert.ok(Date.now() - started < 60_000, 'fuzzing took over a minute: something is quadratic');
});
