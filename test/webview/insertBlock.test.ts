// The "add a block here" edit: for every gap of several plans, the edited plan must compile to the
// old stack plus exactly one new block after the chosen base block — checked by the plan compiler.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePlan } from '../../src/core';
import { insertBlockAfter, type InsertResult } from '../../src/extension/webviews/insertBlock';
import { planOverlay } from '../../src/core';

/** The plan text with the insertion applied (what the workspace edit does to the document). */
function applyInsert(planText: string, r: Extract<InsertResult, { ok: true }>): string {
  return planText.slice(0, r.span.start) + r.expand + planText.slice(r.span.end);
}

const plan = (expand: string, extra = ''): string => `model meta-llama/Llama-2-7b-hf\nexpand ${expand}   # the paper's notation\n${extra}`;

/** Each output block as a token: k3 kept base 3, n3 new after base 3, f29 final from base 29. */
function signature(text: string): { sig: string[]; trainable: boolean[]; deleted: number[] } {
  const a = analyzePlan(text);
  assert.ok(a.layout, `no layout for ${text}`);
  const sig: string[] = [];
  let last = -1;
  for (const b of a.layout.blocks) {
    if (b.role === 'kept') sig.push(`k${(last = b.sources[0]!.layer)}`);
    else if (b.role === 'final') sig.push(`f${(last = a.layout.final!.original)}`);
    else sig.push(`n${last}`);
  }
  return { sig, trainable: a.layout.blocks.map((b) => b.trainable), deleted: a.layout.deleted };
}

describe('insertBlockAfter', () => {
  it('turns a keep segment into a group and merges with equal neighbours', () => {
    const text = plan('(2+1)x8 | 13 | 1◇');
    const r = insertBlockAfter(text, 17, 32);
    assert.ok(r.ok);
    assert.equal(r.expand, '(2+1)x9 | 11 | 1◇');
    assert.equal(r.before, '(2+1)x8 | 13 | 1◇');
    assert.equal(applyInsert(text, r), plan('(2+1)x9 | 11 | 1◇'), 'the comment and its spacing survive');
    const mid = insertBlockAfter(text, 20, 32);
    assert.ok(mid.ok);
    assert.equal(mid.expand, '(2+1)x8 | (5+1) | 8 | 1◇');
  });

  it('splits a group repetition or widens it at its last kept block', () => {
    const a = insertBlockAfter(plan('(4+1)x8'), 9, 32);
    assert.ok(a.ok);
    assert.equal(a.expand, '(4+1)x2 | (2+1)x2 | (4+1)x5', 'block 9 is the 2nd of the 3rd group: it splits into (2+1)(2+1)');
    const b = insertBlockAfter(plan('(4+1)x8'), 11, 32);
    assert.ok(b.ok);
    assert.equal(b.expand, '(4+1)x2 | (4+2) | (4+1)x5');
  });

  it('refuses where the notation cannot say it, with a reason', () => {
    const text = plan('(2+1)x8 | 13 | 1◇');
    for (const [after, word] of [[29, 'final'], [30, 'deleted'], [31, 'deleted'], [28, 'before the updated final'], [32, 'outside']] as const) {
      const r = insertBlockAfter(text, after, 32);
      assert.equal(r.ok, false, `block ${after}`);
      assert.match((r as { reason: string }).reason, new RegExp(word));
    }
    assert.equal(insertBlockAfter(plan('(2+1)x8 | 1 3 | ?'), 3, 32).ok, false);
  });

  for (const expand of ['(2+1)x8 | 13 | 1◇', '(4+1)x8', '(2+1)x3 | (4+1)x3 | (7+1)x2', '16 | (2+1)x8', '(2+1)x8 | 16◇', '(2+1)x6 | 17 | 1◇', '(2+1)x8 | 11 | 1◇', '8 | -2 | (3+2)x4 | 10']) {
    it(`every gap of ${expand} adds exactly one block there`, () => {
      const text = plan(expand, 'train new, final\n');
      const before = signature(text);
      let accepted = 0;
      for (let b = 0; b < 32; b++) {
        const r = insertBlockAfter(text, b, 32);
        if (!r.ok) {
          assert.ok(!before.sig.includes(`k${b}`) || before.sig[before.sig.indexOf(`k${b}`) + 1]?.startsWith('f'), `refused a plain gap after ${b}: ${r.reason}`);
          continue;
        }
        accepted++;
        const after = applyInsert(text, r);
        const a = analyzePlan(after);
        assert.ok(!a.diagnostics.some((d) => d.code === 'SL021' || d.code === 'SL022'), `${r.expand} does not parse`);
        const got = signature(after);
        const expected = [...before.sig];
        let at = before.sig.indexOf(`k${b}`) + 1;
        while (expected[at] === `n${b}`) at++;
        expected.splice(at, 0, `n${b}`);
        assert.deepEqual(got.sig, expected, `${expand} + block after ${b} → ${r.expand}`);
        assert.deepEqual(got.deleted, before.deleted);
        assert.equal(got.trainable[at], true, 'the new block is trainable');
        // The same diamond (init) as before.
        assert.equal(r.expand.includes('◇'), expand.includes('◇'));
      }
      assert.ok(accepted >= 10);
    });
  }
});

describe('planOverlay', () => {
  it('marks the paper plan: new blocks after 1, 3, …, 15; final 29; 30–31 deleted; trainable final', () => {
    const a = analyzePlan(plan('(2+1)x8 | 13 | 1◇'));
    const o = planOverlay(a.layout!, { planFile: null, expand: a.canonicalExpansion!, init: a.init });
    assert.equal(o.resultLayers, 38);
    assert.deepEqual(o.blocks.filter((b) => b.newAfter > 0).map((b) => b.base), [1, 3, 5, 7, 9, 11, 13, 15]);
    assert.deepEqual(o.blocks.filter((b) => b.status === 'deleted').map((b) => b.base), [30, 31]);
    assert.deepEqual(o.blocks.filter((b) => b.status === 'final').map((b) => b.base), [29]);
    assert.deepEqual(o.blocks.filter((b) => b.trainable).map((b) => b.base), [29]);
    assert.equal(o.init, 'average');
  });
  it('follows train kept and explicit deletions', () => {
    const a = analyzePlan(plan('8 | -2 | (3+2)x4 | 10', 'train new, kept\n'));
    const o = planOverlay(a.layout!, { planFile: 'p.slayer', expand: a.canonicalExpansion!, init: a.init });
    assert.deepEqual(o.blocks.filter((b) => b.status === 'deleted').map((b) => b.base), [8, 9]);
    assert.deepEqual(o.blocks.filter((b) => b.newAfter === 2).map((b) => b.base), [12, 15, 18, 21]);
    assert.equal(o.blocks.filter((b) => b.trainable).length, 30);
  });
});
