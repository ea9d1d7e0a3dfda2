// The layer-map overlay (src/core/overlay.ts): the same from a compiled LayerMap as from the plan layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzePlan, layerMapOverlay, planOverlay } from '../../src/core';

test('the overlay from a compiled LayerMap equals the one from the plan layout', () => {
  for (const expand of ['(2+1)x8 | 13 | 1◇', '(4+1)x8', '16 (2+1)x8', '(2+1)x8 | 12 | 1◇', '(2+1)x6 | 17 | 1◇']) {
    const a = analyzePlan(`model meta-llama/Llama-2-7b-hf\nexpand ${expand}\n`);
    assert.ok(a.layerMap && a.layout && a.canonicalExpansion, expand);
    const fromLayout = planOverlay(a.layout, { planFile: null, expand: a.canonicalExpansion, init: a.init });
    assert.deepEqual(layerMapOverlay(a.layerMap).blocks, fromLayout.blocks, expand);
  }
});
