// Thousands of seeded random mutations of valid plans: the core never throws, never hangs, and
// every diagnostic (and every fix edit) lies inside the document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { analyzePlan, formatPlan } from '../../src/core';
import { MAX_BLOCKS, MAX_DIAGNOSTICS_PER_LINE, MAX_MESSAGE_CHARS } from '../../src/core/limits';
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

// Issue 14: mutations a keyboard rarely makes but a file or a paste can — numbers of hundreds of
// digits, tokens repeated up to 200,000 times. Every analysis is bounded in time, in diagnostics
// per line and in blocks built, and nothing is ever shown clamped. SLAYER_FUZZ_SCALE=N runs N times
// as many cases (CI runs the default: a few seconds).
const SCALE = Math.max(1, Number(process.env.SLAYER_FUZZ_SCALE) || 1);
const REPEATED = ['|', '-1 ', '1 ', '(1+1)', '(0+4096)x4096 ', '(1+999)x', '◇', '~', '(', '9', 'x', 'stage cpt\n', '  steps 1\n', 'model x\n', '\r', '\ufeff', ' ', 'zz '];

function hugeNumber(rand: () => number): string {
  const digits = 1 + Math.floor(rand() * (rand() < 0.2 ? 400 : 25));
  let s = String(1 + Math.floor(rand() * 9));
  for (let i = 1; i < digits; i++) s += String(Math.floor(rand() * 10));
  return rand() < 0.15 ? `${s}e${Math.floor(rand() * 400)}` : s;
}

test('huge numbers and long repetitions stay bounded', () => {
  const rand = rng(20261205);
  const cases = 150 * SCALE;
  const started = process.cpuUsage();
  for (let n = 0; n < cases; n++) {
    let text = SEEDS[n % SEEDS.length]!;
    const edits = 1 + Math.floor(rand() * 3);
    for (let e = 0; e < edits; e++) {
      const pos = Math.floor(rand() * (text.length + 1));
      const insert = rand() < 0.5 ? hugeNumber(rand) : REPEATED[Math.floor(rand() * REPEATED.length)]!.repeat(1 + Math.floor(rand() < 0.1 ? rand() * 200_000 : rand() * 2000));
      text = text.slice(0, pos) + insert + text.slice(pos);
    }
    // CPU time, not wall time: the bound is about this process's work, not a busy machine.
    const t0 = process.cpuUsage();
    const a = analyzePlan(text);
    const cpu = process.cpuUsage(t0);
    const took = (cpu.user + cpu.system) / 1000;
    if (process.env.SLAYER_FUZZ_DUMP && took > 1000) writeFileSync(process.env.SLAYER_FUZZ_DUMP, text);
    assert.ok(took < 5000, `case ${n}: ${took.toFixed(0)} ms of CPU for ${text.length} characters`);
    const perLine = new Map<number, number>();
    for (const d of a.diagnostics) {
      const line = a.lines.positionAt(d.span.start).line;
      perLine.set(line, (perLine.get(line) ?? 0) + 1);
      assert.ok(d.message.length <= MAX_MESSAGE_CHARS, `case ${n}: a ${d.message.length}-character message`);
      assert.ok(!d.message.includes('9007199254740992'), `case ${n}: a clamped number is shown: ${d.message}`);
      assert.ok(d.span.start >= 0 && d.span.end <= text.length);
    }
    for (const [line, count] of perLine) assert.ok(count <= MAX_DIAGNOSTICS_PER_LINE + 1, `case ${n}: ${count} diagnostics on line ${line}`);
    assert.ok((a.layout?.blocks.length ?? 0) <= MAX_BLOCKS, `case ${n}: ${a.layout?.blocks.length} blocks built`);
    if (text.length < 50_000) formatPlan(text);
  }
  const cpu = process.cpuUsage(started);
  assert.ok((cpu.user + cpu.system) / 1000 < 60_000 * SCALE, 'hostile fuzzing took over a minute of CPU');
});
