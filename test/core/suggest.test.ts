// Suggestions from importance profiles. Every expected answer is computed here from the definition
// of the strategy (docs/suggestions.md) and read back from the notation by a decoder written for this
// test, never taken from a run of the code under test; the analyzer must accept every suggestion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  analyzePlan, lookupCatalogue, parseBudget, parseDeletion, profileFromImportance, profileFromSimilarity, suggestExpansion, suggestionLines,
  SuggestError, SUGGEST_STRATEGIES, type ImportanceProfile, type SuggestRequest,
} from '../../src/core';
import type { ModelShape } from '../../src/protocol/layerMap';
import type { ImportanceFile } from '../../src/protocol/runnerEvents';
import { prng } from '../helpers/prng';

const LLAMA2 = lookupCatalogue('meta-llama/Llama-2-7b-hf')!.shape;
// Per block by hand (docs/plan-language.md): 2h·(heads·d) + 2h·(kv·d) + 3h·i + 2h.
const perBlock = (s: ModelShape): number => 2 * s.hiddenSize * s.numHeads * s.headDim + 2 * s.hiddenSize * s.numKvHeads * s.headDim + 3 * s.hiddenSize * s.intermediateSize + 2 * s.hiddenSize;
const withLayers = (L: number): ModelShape => ({ ...LLAMA2, numLayers: L });
const profile = (scores: number[]): ImportanceProfile => ({ scores, metric: 'removal_drop', model: null });
/** Importance falling with depth: the deepest block matters least (ties never arise). */
const falling = (L: number): ImportanceProfile => profile(Array.from({ length: L }, (_, i) => 1 - i / L));

/** What an expansion does to base blocks, read from the notation independently of the core. */
function decode(expand: string, L: number): { inserts: Map<number, number>; deleted: number[]; final: number | null; segments: string[] } {
  const segments = expand.split('|').map((s) => s.trim());
  const inserts = new Map<number, number>();
  const deleted: number[] = [];
  let b = 0;
  let lastKeep1 = -1;
  let prevWasKeep = false;
  let final: number | null = null;
  for (const [i, raw] of segments.entries()) {
    const seg = raw.replace('◇', '');
    const g = /^\((\d+)\+(\d+)\)(?:x(\d+))?$/.exec(seg);
    if (g) {
      for (let r = 0; r < Number(g[3] ?? 1); r++) {
        b += Number(g[1]);
        inserts.set(b - 1, (inserts.get(b - 1) ?? 0) + Number(g[2]));
      }
      prevWasKeep = false;
    } else if (/^-\d+$/.test(seg)) {
      for (let k = 0; k < -Number(seg); k++) deleted.push(b++);
      prevWasKeep = false;
    } else {
      assert.match(seg, /^\d+$/, `segment ${raw} of ${expand}`);
      if (seg === '1' && prevWasKeep && i === segments.length - 1) lastKeep1 = b;
      b += Number(seg);
      prevWasKeep = true;
    }
  }
  assert.ok(b <= L, `${expand} covers ${b} of ${L}`);
  for (; b < L; b++) deleted.push(b); // implicit deletion at the deep end
  if (lastKeep1 >= 0 && deleted.length && deleted[0] === lastKeep1 + 1) final = lastKeep1;
  return { inserts, deleted, final, segments };
}

const run = (r: Partial<SuggestRequest> & Pick<SuggestRequest, 'strategy'>): ReturnType<typeof suggestExpansion> =>
  suggestExpansion({ shape: LLAMA2, profile: falling(32), budget: { kind: 'blocks', value: 8 }, deletion: { kind: 'count', count: 0 }, ...r });

/** The analyzer, on a plan naming the shape's model, reports no error and the same accounting. */
function checkClean(expand: string, shape: ModelShape, s: ReturnType<typeof suggestExpansion>): void {
  const config = JSON.stringify({ model_type: 'llama', hidden_size: shape.hiddenSize, intermediate_size: shape.intermediateSize, num_hidden_layers: shape.numLayers, num_attention_heads: shape.numHeads, num_key_value_heads: shape.numKvHeads, vocab_size: shape.vocabSize });
  const a = analyzePlan(`model ./m\nexpand ${expand}\n`, { baseDir: '/p', readFile: (p) => (p === '/p/m/config.json' ? config : undefined) });
  assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], expand);
  assert.equal(a.canonicalExpansion, expand, 'the suggestion is written in canonical form');
  assert.equal(a.layout!.numLayers, s.depth);
  assert.equal(a.params!.trainable, s.params.trainable);
}

describe('slayer: the paper\'s interleave over the shallow half', () => {
  for (const [N, D] of [[8, 2], [8, 0], [6, 2], [5, 1], [3, 0], [16, 2], [20, 0]] as const) {
    it(`${N} new blocks, ${D} deleted on 32 blocks`, () => {
      const L = 32;
      const s = run({ strategy: 'slayer', budget: { kind: 'blocks', value: N }, deletion: { kind: 'count', count: D } });
      // The first half (16 blocks) cut into min(N, 16) groups whose sizes differ by at most one, the
      // shorter first; the new blocks go after each group's last block, extras on the shallowest groups.
      const H = L / 2;
      const G = Math.min(N, H);
      const sizes = Array.from({ length: G }, (_, g) => Math.floor(H / G) + (g >= G - (H % G) ? 1 : 0));
      const perGroup = sizes.map((_, g) => Math.floor(N / G) + (g < N % G ? 1 : 0));
      const expected = new Map<number, number>();
      let end = 0;
      sizes.forEach((size, g) => {
        end += size;
        expected.set(end - 1, perGroup[g]!);
      });
      const got = decode(s.expand, L);
      assert.deepEqual([...got.inserts].sort((a, b) => a[0] - b[0]), [...expected].sort((a, b) => a[0] - b[0]), s.expand);
      // Falling importance: the D least important of the deepest quarter are the deepest D.
      const deleted = Array.from({ length: D }, (_, k) => L - D + k);
      assert.deepEqual(got.deleted, deleted);
      assert.deepEqual(s.deleted, deleted);
      // Deleting from the deep end leaves the last kept block as the updated final block (trained).
      assert.equal(got.final, D ? L - D - 1 : null);
      assert.equal(s.final, got.final);
      assert.equal(s.depth, L + N - D);
      assert.equal(s.params.trainable, (N + (D ? 1 : 0)) * perBlock(LLAMA2));
      assert.equal(s.params.total, (L + N - D) * perBlock(LLAMA2) + 2 * 32000 * 4096 + 4096);
      // The notation's segments: one per run of equal groups, the kept rest, the final `1`.
      const pairs = sizes.map((size, g) => `${size}+${perGroup[g]}`);
      const runs = pairs.filter((x, g) => g === 0 || x !== pairs[g - 1]).length;
      const rest = L - H - D - (D ? 1 : 0);
      assert.equal(got.segments.length, runs + (rest > 0 ? 1 : 0) + (D ? 1 : 0), s.expand);
      checkClean(s.expand, LLAMA2, s);
    });
  }

  it('reproduces SLayer-8B and its Table 4 figures', () => {
    const s = run({ strategy: 'slayer', deletion: { kind: 'count', count: 2 } });
    assert.equal(s.expand, '(2+1)x8 | 13 | 1◇');
    assert.equal(s.params.total, 7_952_715_776);
    assert.equal(s.params.trainable, 1_821_450_240);
    assert.equal(s.trainableWithHead, 1_952_522_240);
  });
});

describe('llama-pro, bottom, top, dus', () => {
  it('llama-pro: one new block after every L/N blocks over the whole stack (Table 4: 8,357,482,496)', () => {
    const s = run({ strategy: 'llama-pro' });
    const got = decode(s.expand, 32);
    assert.deepEqual([...got.inserts.keys()].sort((a, b) => a - b), Array.from({ length: 8 }, (_, k) => 4 * (k + 1) - 1));
    assert.equal(s.init, 'copy');
    assert.equal(s.expand.includes('◇'), false, 'LLaMA Pro copies');
    assert.equal(s.params.total, 8_357_482_496);
    checkClean(s.expand, LLAMA2, s);
  });

  it('bottom: all N after block 0; top: all N after the last kept block', () => {
    const b = run({ strategy: 'bottom', budget: { kind: 'blocks', value: 4 } });
    assert.deepEqual([...decode(b.expand, 32).inserts], [[0, 4]]);
    const t = run({ strategy: 'top', budget: { kind: 'blocks', value: 4 }, deletion: { kind: 'count', count: 2 } });
    const got = decode(t.expand, 32);
    // Deleted 30, 31 (least important deep blocks); the last kept block is 29.
    assert.deepEqual(got.deleted, [30, 31]);
    assert.deepEqual([...got.inserts], [[29, 4]]);
    assert.equal(got.final, null, 'no plain kept block is left before the deleted ones for an updated final block');
    assert.equal(t.params.trainable, 4 * perBlock(LLAMA2));
    checkClean(b.expand, LLAMA2, b);
    checkClean(t.expand, LLAMA2, t);
  });

  it('dus: SOLAR\'s 32 → 48 duplicates the middle 16 blocks, 8–15 … 23 (9 … 24 1-based)', () => {
    const s = run({ strategy: 'dus', budget: { kind: 'depth', value: 48 } });
    const got = decode(s.expand, 32);
    assert.deepEqual([...got.inserts].sort((a, b) => a[0] - b[0]), Array.from({ length: 16 }, (_, k) => [8 + k, 1]));
    assert.equal(s.depth, 48);
    assert.ok(s.reasons.some((r) => r.includes('8 (9) to 23 (24)')), s.reasons.join('\n'));
    checkClean(s.expand, LLAMA2, s);
  });
});

describe('importance: after the shallow blocks that matter most', () => {
  it('puts the new blocks after the top-N shallow blocks of the profile, as non-uniform segments', () => {
    const rnd = prng(17);
    for (let trial = 0; trial < 20; trial++) {
      const L = 16 + Math.floor(rnd() * 64);
      const N = 1 + Math.floor(rnd() * (L / 2 - 1));
      const scores = Array.from({ length: L }, () => rnd());
      const s = suggestExpansion({ shape: withLayers(L), profile: profile(scores), budget: { kind: 'blocks', value: N }, deletion: { kind: 'count', count: 0 }, strategy: 'importance' });
      const shallow = Array.from({ length: Math.floor(L / 2) }, (_, i) => i);
      const top = shallow.sort((a, b) => scores[b]! - scores[a]!).slice(0, N).sort((a, b) => a - b);
      const got = decode(s.expand, L);
      assert.deepEqual([...got.inserts.keys()].sort((a, b) => a - b), top, `L=${L} N=${N}: ${s.expand}`);
      // Segment boundaries: one group per anchor (consecutive equal gaps merge into one xN segment).
      const gaps = top.map((b, k) => b - (k ? top[k - 1]! : -1));
      const groups = gaps.filter((g, k) => k === 0 || g !== gaps[k - 1]).length;
      assert.equal(got.segments.length, groups + (top[top.length - 1]! < L - 1 ? 1 : 0), s.expand);
      assert.equal(s.depth, L + N);
      checkClean(s.expand, withLayers(L), s);
    }
  });
});

describe('deletions: the least important blocks of the deepest quarter', () => {
  const L = 32;
  // Deep blocks 24–31: 26 and 28 matter least; block 31 matters a lot (the paper's Figure 2a).
  const scores = Array.from({ length: L }, (_, i) => (i === 26 ? 0.01 : i === 28 ? 0.02 : i === 31 ? 0.9 : 0.5 - i / 100));

  it('by count: the N lowest scores of blocks 24–31, written as explicit deletions', () => {
    const s = run({ strategy: 'slayer', profile: profile(scores), deletion: { kind: 'count', count: 2 } });
    const got = decode(s.expand, L);
    assert.deepEqual(got.deleted, [26, 28]);
    assert.equal(got.final, null, 'not the deep end: no updated final block');
    assert.equal(s.params.trainable, 8 * perBlock(LLAMA2));
    checkClean(s.expand, LLAMA2, s);
  });

  it('auto: every deep block at most the threshold of the normalised range', () => {
    const lo = Math.min(...scores);
    const hi = Math.max(...scores);
    for (const t of [0, 0.05, 0.5, 0.65]) {
      const expected = Array.from({ length: L }, (_, i) => i).filter((i) => i >= L - L / 4 && (scores[i]! - lo) / (hi - lo) <= t);
      const s = run({ strategy: 'slayer', profile: profile(scores), deletion: { kind: 'auto', threshold: t } });
      assert.deepEqual(decode(s.expand, L).deleted, expected, `threshold ${t}: ${s.expand}`);
      checkClean(s.expand, LLAMA2, s);
    }
  });

  it('refuses more deletions than the deepest quarter holds, and auto without a profile', () => {
    assert.throws(() => run({ strategy: 'slayer', deletion: { kind: 'count', count: 9 } }), (e: unknown) => e instanceof SuggestError && /deepest quarter, 8 of 32 blocks \(blocks 24 \(25\) to 31 \(32\)\)/.test(e.message));
    assert.throws(() => run({ strategy: 'slayer', profile: null, deletion: { kind: 'auto', threshold: 0.1 } }), /needs an importance profile/);
    assert.throws(() => run({ strategy: 'importance', profile: null }), /needs an importance profile/);
  });
});

describe('budgets', () => {
  it('trainable parameters: the most new blocks whose cost, with the final block, fits', () => {
    const pb = perBlock(LLAMA2);
    for (const budget of [1.9e9, 1_821_450_240, 1_821_450_239, 5 * pb + 1]) {
      const s = run({ strategy: 'slayer', budget: { kind: 'params', value: budget }, deletion: { kind: 'count', count: 2 } });
      const N = Math.floor(budget / pb) - 1; // the updated final block trains too
      assert.equal(s.newCount, N, `budget ${budget}`);
      assert.ok(s.params.trainable <= budget);
      assert.ok(s.params.trainable + pb > budget, 'one more block would not fit');
    }
    assert.throws(() => run({ strategy: 'slayer', budget: { kind: 'params', value: pb }, deletion: { kind: 'count', count: 2 } }), /do not pay for one new block/);
  });

  it('refuses a budget past the limits before building anything', () => {
    assert.throws(() => run({ strategy: 'importance', budget: { kind: 'params', value: 1e18 } }), /a plan may make at most 4,096/);
    assert.throws(() => run({ strategy: 'slayer', budget: { kind: 'blocks', value: 5000 } }), /a plan may make at most 4,096/);
  });

  it('target depth: N = depth − L + D', () => {
    const s = run({ strategy: 'slayer', budget: { kind: 'depth', value: 38 }, deletion: { kind: 'count', count: 2 } });
    assert.equal(s.newCount, 38 - 32 + 2);
    assert.equal(s.depth, 38);
    assert.throws(() => run({ strategy: 'slayer', budget: { kind: 'depth', value: 30 }, deletion: { kind: 'count', count: 2 } }), /no room/);
  });

  it('parses budgets and deletions as the CLI takes them', () => {
    assert.deepEqual(parseBudget('8'), { kind: 'blocks', value: 8 });
    assert.deepEqual(parseBudget('8blocks'), { kind: 'blocks', value: 8 });
    assert.deepEqual(parseBudget('1.8Bparams'), { kind: 'params', value: 1_800_000_000 });
    assert.deepEqual(parseBudget('38 depth'), { kind: 'depth', value: 38 });
    for (const bad of ['', 'x', '1.5blocks', '-3', '2Bdepth', '0']) assert.throws(() => parseBudget(bad), SuggestError, bad);
    assert.deepEqual(parseDeletion('2'), { kind: 'count', count: 2 });
    assert.deepEqual(parseDeletion('auto'), { kind: 'auto', threshold: 0.05 });
    assert.deepEqual(parseDeletion('auto:0.2'), { kind: 'auto', threshold: 0.2 });
    for (const bad of ['auto:2', 'some', '-1']) assert.throws(() => parseDeletion(bad), SuggestError, bad);
  });
});

describe('profiles and labels', () => {
  it('reads removal_drop by default, else the angular distance; weight cosines as angular distance', () => {
    const file = { v: 1, model: 'm', num_layers: 3, calibration: { source: 's', sequences: 1, tokens: 1, seq_len: 1 }, baseline_loglik: 0, angular_all: [0.3, 0.2, 0.1], angular_last: [0, 0, 0], removal_drop: [1, 2, 3], insert_copy_drop: null, insert_average_drop: null } as ImportanceFile;
    assert.deepEqual(profileFromImportance(file).scores, [1, 2, 3]);
    assert.deepEqual(profileFromImportance({ ...file, removal_drop: null }).scores, [0.3, 0.2, 0.1]);
    assert.throws(() => profileFromImportance(file, 'insert_copy_drop'), /no "insert_copy_drop"/);
    const p = profileFromSimilarity([1, 0, null]);
    assert.deepEqual(p.scores, [0, 0.5, 0, 0]);
  });

  it('shows every block 0-based with the paper\'s 1-based in parentheses', () => {
    const s = run({ strategy: 'slayer', deletion: { kind: 'count', count: 2 } });
    const text = suggestionLines(s).join('\n');
    assert.match(text, /new {6}after base blocks, 0-based \(paper 1-based\): 1 \(2\), 3 \(4\), 5 \(6\), 7 \(8\), 9 \(10\), 11 \(12\), 13 \(14\), 15 \(16\)/);
    assert.match(text, /deleted {2}0-based \(paper 1-based\): 30 \(31\), 31 \(32\)/);
    assert.match(text, /final {4}29 \(30\) \(updated final block\)/);
    assert.match(text, /depth {4}32 \+ 8 new − 2 deleted = 38 blocks/);
  });

  it('refuses a profile of another depth', () => {
    assert.throws(() => run({ strategy: 'slayer', profile: falling(30) }), /30 blocks but the model has 32/);
  });
});

describe('every strategy on random shapes: accepted by the analyzer, consistent with its own figures', () => {
  it('200 random requests', () => {
    const rnd = prng(4242);
    for (let trial = 0; trial < 200; trial++) {
      const L = 4 + Math.floor(rnd() * 77);
      const strategy = SUGGEST_STRATEGIES[Math.floor(rnd() * SUGGEST_STRATEGIES.length)]!;
      const N = 1 + Math.floor(rnd() * 2 * L);
      const D = Math.floor(rnd() * (Math.floor(L / 4) + 1));
      const scores = Array.from({ length: L }, () => rnd());
      const s = suggestExpansion({ shape: withLayers(L), profile: profile(scores), budget: { kind: 'blocks', value: N }, deletion: { kind: 'count', count: D }, strategy });
      const got = decode(s.expand, L);
      const what = `${strategy} L=${L} N=${N} D=${D}: ${s.expand}`;
      assert.equal([...got.inserts.values()].reduce((a, b) => a + b, 0), N, what);
      assert.deepEqual([...got.inserts].sort((a, b) => a[0] - b[0]).map(([block, count]) => ({ block, count })), s.insertAfter, what);
      assert.deepEqual(got.deleted, s.deleted, what);
      assert.equal(got.deleted.length, D, what);
      assert.ok(got.deleted.every((b) => b >= L - Math.floor(L / 4)), what);
      assert.ok([...got.inserts.keys()].every((b) => !got.deleted.includes(b)), what);
      assert.equal(s.depth, L + N - D, what);
      assert.equal(s.final, got.final, what);
      checkClean(s.expand, withLayers(L), s);
    }
  });
});
