// The layer map view in real headless Chromium: the paper's SLayer-8B plan (Table 4 totals), then
// an edit of the plan, then a plan that does not compile.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzePlan, layerMapOverlay } from '../../src/core';
import type { LayerMap } from '../../src/protocol/layerMap';
import { viewForSuite } from './harness';

const mapOf = (expand: string) => analyzePlan(`model meta-llama/Llama-2-7b-hf\nexpand ${expand}\n`).layerMap!;
/** What the host sends: the map and the core's overlay of it. */
const shown = (map: LayerMap | null) => ({ layerMap: map, overlay: map && layerMapOverlay(map) });

describe('layer map view (Chromium)', () => {
  const v = viewForSuite('layerMap', { height: 1000 });

  it('shows the original and resulting stacks side by side with sources, init and totals', async () => {
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post({ type: 'layerMap', ...shown(mapOf('(2+1)x8 | 13 | 1◇')), planFile: '/w/slayer-8b.slayer', problems: [], stale: false });
    const orig = v.page.locator('#original li');
    const res = v.page.locator('#result li');
    assert.equal(await orig.count(), 32);
    assert.equal(await res.count(), 38);
    assert.deepEqual(await v.page.locator('#original li.deleted').evaluateAll((els) => els.map((e) => e.getAttribute('data-block'))), ['30', '31']);
    assert.equal(await v.page.locator('#original li.deleted').first().evaluate((e) => getComputedStyle(e).textDecorationLine), 'line-through');
    // The updated final block retrains base block 29, the one of its sources that is kept.
    assert.deepEqual(await v.page.locator('#original li.trainable').evaluateAll((els) => els.map((e) => e.getAttribute('data-block'))), ['29']);
    const trainable = await v.page.locator('#result li.trainable').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-block'))));
    assert.deepEqual(trainable, [2, 5, 8, 11, 14, 17, 20, 23, 37]);
    assert.equal(await v.page.locator('#result li[data-block="2"]').textContent(), '2 ← new: avg 1, 2 ●');
    assert.equal(await v.page.locator('#result li[data-block="37"]').textContent(), '37 ← final: avg 29–31 ●');
    assert.equal(await v.page.locator('#result li[data-block="36"]').textContent(), '36 ← 28');
    // The long form stays in the tooltip.
    assert.equal(await v.page.locator('#result li[data-block="37"]').getAttribute('title'), 'final · mean of 29, 30, 31 · trainable');
    assert.equal(await v.page.locator('#stacks svg.links line').count(), 38 - 9 + 8 * 2 + 3);
    // Table 4: 7,952,715,776 parameters, 1,821,450,240 trainable in blocks.
    assert.match((await v.page.locator('tr[data-row="total"]').textContent())!, /7,952,715,776/);
    assert.match((await v.page.locator('tr[data-row="trainableBlocks"]').textContent())!, /1,821,450,240/);
    await v.screenshot('layermap.png');
  });

  it('follows the plan as it is edited, and keeps the last map (marked stale) while it does not compile', async () => {
    await v.post({ type: 'layerMap', ...shown(mapOf('(2+1)x9 | 11 | 1◇')), planFile: '/w/slayer-8b.slayer', problems: [], stale: false });
    assert.equal(await v.page.locator('#result li').count(), 39);
    assert.equal(await v.page.locator('#stale').count(), 0);
    await v.post({ type: 'layerMap', ...shown(mapOf('(2+1)x9 | 11 | 1◇')), planFile: '/w/slayer-8b.slayer', problems: ['line 2: expected ")" to close the group'], stale: true });
    assert.equal(await v.page.locator('#stale').count(), 1);
    assert.equal(await v.page.locator('#problems .error').textContent(), 'line 2: expected ")" to close the group');
    assert.equal(await v.page.locator('#result li').count(), 39);
    await v.post({ type: 'layerMap', ...shown(null), planFile: null, problems: [], stale: false });
    assert.equal(await v.page.locator('#empty').isVisible(), true);
  });

  it('draws the overlay the host sends rather than working it out from the map', async () => {
    const map = mapOf('(2+1)x8 | 13 | 1◇');
    const overlay = layerMapOverlay(map);
    overlay.blocks[0]!.trainable = true;
    overlay.blocks[29]!.trainable = false;
    await v.post({ type: 'layerMap', layerMap: map, overlay, planFile: '/w/slayer-8b.slayer', problems: [], stale: false });
    assert.deepEqual(await v.page.locator('#original li.trainable').evaluateAll((els) => els.map((e) => e.getAttribute('data-block'))), ['0']);
  });

  it('raised no CSP violation and no console error', async () => {
    assert.deepEqual(await v.problems(), []);
  });
});

describe('layer map in a half-width editor group (Chromium)', () => {
  const v = viewForSuite('layerMap', { width: 520, height: 1000 });

  it('has a legend for its colours and marks, and labels that fit without clipping', async () => {
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post({ type: 'layerMap', ...shown(mapOf('(2+1)x8 | 13 | 1◇')), planFile: '/w/slayer-8b.slayer', problems: [], stale: false });
    const legend = await v.page.locator('#legend').innerText();
    for (const word of ['trainable (also ●)', 'new block', 'deleted', 'kept from', 'new block\'s source', 'final block\'s sources']) assert.ok(legend.includes(word), `legend says "${word}": ${legend}`);
    // The legend's marks are the map's own styles: the same colours as the blocks and links.
    const colours = await v.page.evaluate(() => {
      const c = (sel: string, prop: 'color' | 'stroke' | 'backgroundColor') => getComputedStyle(document.querySelector(sel)!)[prop];
      return {
        keyNew: c('#legend .key-new', 'color'), blockNew: c('#result li.new', 'color'),
        keyDeleted: c('#legend .key-deleted', 'color'), blockDeleted: c('#original li.deleted', 'color'),
        keyFinal: c('#legend svg line.final', 'stroke'), linkFinal: c('#stacks svg line.final', 'stroke'),
      };
    });
    assert.equal(colours.keyNew, colours.blockNew);
    assert.equal(colours.keyDeleted, colours.blockDeleted);
    assert.equal(colours.keyFinal, colours.linkFinal);
    const clipped = await v.page.locator('#stacks li').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    assert.deepEqual(clipped, [], 'no block label is cut off');
    const overflow = await v.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px too wide)`);
    await v.screenshot('layermap-half-width.png');
    assert.deepEqual(await v.problems(), []);
  });
});
