// The suggestion preview of the importance view in real headless Chromium: a suggestion computed
// by the core from a runner-recorded importance.json is drawn dashed over the charts (new blocks
// where the paper's interleave puts them, the least important deep blocks hatched), its panel
// shows the notation and accounting with 0-based (1-based) blocks, and "Apply to plan" / "Discard"
// and the toolbar's "Suggest expansion…" reach the host.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzePlan, planOverlay, profileFromImportance, suggestExpansion, suggestionPreview } from '../../src/core';
import { validateImportanceFile } from '../../src/protocol/runnerEvents';
import type { HostMessage } from '../../src/messages/webviewMessages';
import { frames, ROOT, type ViewPage, viewForSuite } from './harness';

const importance = validateImportanceFile(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'webview', 'importance.tiny32.json'), 'utf8')));
const plan = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n');
const overlay = planOverlay(plan.layout!, { planFile: '/w/pro.slayer', expand: plan.canonicalExpansion!, init: plan.init });
const profile = profileFromImportance(importance);
const suggestion = suggestExpansion({ shape: plan.model!.shape!, profile, budget: { kind: 'blocks', value: 8 }, deletion: { kind: 'count', count: 2 }, strategy: 'slayer' });
const preview = suggestionPreview(suggestion, '/w/pro.slayer', profile);
// From the definitions: 8 new blocks after every 2nd of the first 16; the 2 lowest removal drops of 24–31.
const ANCHORS = [1, 3, 5, 7, 9, 11, 13, 15];
const DELETED = [24, 25, 26, 27, 28, 29, 30, 31].sort((a, b) => importance.removal_drop![a]! - importance.removal_drop![b]! || b - a).slice(0, 2).sort((a, b) => a - b);

const importanceMsg: HostMessage = { type: 'importance', importance, source: 'run r-1/out/importance.json', overlay, notes: [], similarity: null, measuredOnPlanModel: true, picked: false, canComputeSimilarity: false };

type Blocks = { base: number; status: string; newAfter: number }[] | null;
async function suggestionBlocks(v: ViewPage, key: string): Promise<Blocks> {
  return v.page.evaluate((k) => {
    const view = (window as unknown as { slayerView: { charts: Map<string, { options: { plugins: { slayerSuggestion?: { blocks: Blocks } } } }> } }).slayerView;
    return view.charts.get(k)!.options.plugins.slayerSuggestion?.blocks ?? null;
  }, key);
}

/** Pixels of a column of the chart area at base block `at` + `dx` block widths, from 20 to 70 px below its top. */
async function column(v: ViewPage, key: string, at: number, dx: number): Promise<number[][]> {
  return v.page.evaluate(([k, block, shift]) => {
    const view = (window as unknown as { slayerView: { charts: Map<string, { canvas: HTMLCanvasElement; chartArea: { top: number }; scales: { x: { getPixelForValue(v: number): number } }; currentDevicePixelRatio: number }> } }).slayerView;
    const c = view.charts.get(k as string)!;
    const r = c.currentDevicePixelRatio;
    const x0 = c.scales.x.getPixelForValue(block as number);
    const x = x0 + (shift as number) * (c.scales.x.getPixelForValue((block as number) + 1) - x0);
    const out: number[][] = [];
    for (let y = c.chartArea.top + 20; y < c.chartArea.top + 70; y += 1) {
      const d = c.canvas.getContext('2d')!.getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data;
      out.push([d[0]!, d[1]!, d[2]!]);
    }
    return out;
  }, [key, at, dx] as const);
}
const greenish = (px: number[]): boolean => px[1]! > px[0]! + 40 && px[1]! > px[2]! + 40;
const reddish = (px: number[]): boolean => px[0]! > px[1]! + 60 && px[0]! > px[2]! + 60;

describe('suggestion preview in the importance view (Chromium)', () => {
  const v = viewForSuite('importance', { height: 1200 });

  it('the toolbar offers "Suggest expansion…"', async () => {
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post(importanceMsg);
    await v.page.locator('#suggest').click();
    await v.waitForSent((m) => m.type === 'suggestExpansion', 'suggestExpansion');
    assert.equal(await v.page.locator('#suggestion').isVisible(), false, 'nothing previewed yet');
  });

  it('draws the suggestion dashed over every chart, beside the plan\'s own overlay', async () => {
    const before = await column(v, 'removal', 1, 0.5);
    await v.post({ type: 'suggestion', preview });
    await frames(v.page);
    for (const key of ['angular', 'removal', 'insertion']) {
      const blocks = (await suggestionBlocks(v, key))!;
      assert.deepEqual(blocks.filter((b) => b.newAfter > 0).map((b) => b.base), ANCHORS, key);
      assert.deepEqual(blocks.filter((b) => b.status === 'deleted').map((b) => b.base), DELETED, key);
    }
    // A green dash appears between blocks 1 and 2 (where the plan (4+1)x8 inserts nothing)…
    assert.ok(!before.some(greenish), 'no green there before the preview');
    assert.ok((await column(v, 'removal', 1, 0.5)).some(greenish), 'the suggested new block after block 1 is drawn');
    // …and the deleted blocks are hatched red.
    assert.ok((await column(v, 'removal', DELETED[0]!, 0)).concat(await column(v, 'removal', DELETED[0]!, 0.3)).some(reddish), 'the suggested deletion is drawn');
    assert.deepEqual(await v.problems(), []);
    await v.screenshot('importance-suggestion.png');
  });

  it('shows the notation, the accounting and the reasons with 0-based (1-based) blocks', async () => {
    const lines = await v.page.locator('#suggestion-lines li').allTextContents();
    assert.equal(lines[0], `expand   ${suggestion.expand}`);
    assert.ok(suggestion.expand.startsWith('(2+1)x8 | '), suggestion.expand);
    assert.ok(lines.includes(`deleted  0-based (paper 1-based): ${DELETED.map((b) => `${b} (${b + 1})`).join(', ')}`), lines.join('\n'));
    assert.ok(lines.includes(`new      after base blocks, 0-based (paper 1-based): ${ANCHORS.map((b) => `${b} (${b + 1})`).join(', ')}`), lines.join('\n'));
    assert.ok(lines.includes('depth    32 + 8 new − 2 deleted = 38 blocks'), lines.join('\n'));
    assert.match((await v.page.locator('#suggestion-title').textContent())!, /blocks 0-based \(paper 1-based\)/);
    assert.match((await v.page.locator('#suggestion-reasons').textContent())!, /from removal_drop of \/tmp\/wv-tiny32/);
  });

  it('"Apply to plan" and "Discard" reach the host; a cleared preview leaves the charts', async () => {
    await v.page.locator('#suggestion-apply').click();
    await v.waitForSent((m) => m.type === 'applySuggestion', 'applySuggestion');
    await v.page.locator('#suggestion-discard').click();
    await v.waitForSent((m) => m.type === 'discardSuggestion', 'discardSuggestion');
    await v.post({ type: 'suggestion', preview: null });
    await frames(v.page);
    assert.equal(await v.page.locator('#suggestion').isVisible(), false);
    assert.equal(await suggestionBlocks(v, 'removal'), null);
    assert.ok(!(await column(v, 'removal', 1, 0.5)).some(greenish), 'the dashes are gone');
  });
});
