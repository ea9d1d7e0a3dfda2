// `slayer compile` (src/cli/commands/compile.ts) spawned: the paper plan's LayerMap, validated.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { validateLayerMap } from '../../../src/protocol/layerMap';
import { buildCli, slayer } from '../spawnCli';

before(buildCli);

test('slayer compile prints a valid LayerMap for the paper plan', () => {
  const r = slayer('compile', 'examples/slayer-8b.slayer');
  assert.equal(r.code, 0, r.err);
  const map = validateLayerMap(JSON.parse(r.out));
  assert.equal(map.result.numLayers, 38);
  assert.deepEqual(map.deleted, [30, 31]);
  assert.equal(map.params.total, 7_952_715_776);
  assert.equal(map.params.trainable, 1_952_522_240);
  assert.deepEqual(map.blocks.filter((b) => b.trainable).map((b) => b.index), [2, 5, 8, 11, 14, 17, 20, 23, 37]);
});
