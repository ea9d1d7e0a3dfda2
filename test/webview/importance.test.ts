// The layer importance view in real headless Chromium, with an importance.json recorded from the
// runner (random 32-block model) and the paper's plan overlaid (Llama-2-7B has 32 blocks).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { analyzePlan } from '../../src/core';
import { planOverlay } from '../../src/core';
import { validateImportanceFile } from '../../src/protocol/runnerEvents';
import { pngBytes, type HostMessage, type ViewMessage } from '../../src/messages/webviewMessages';
import { frames, ROOT, type ViewPage, viewForSuite } from './harness';

const importance = validateImportanceFile(JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'webview', 'importance.tiny32.json'), 'utf8')));
const analysis = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\n');
const overlay = planOverlay(analysis.layout!, { planFile: '/w/slayer-8b.slayer', expand: analysis.canonicalExpansion!, init: analysis.init });

/** An importance message as the host sends it; by default a measurement of the plan's own model. */
type ImportanceMessage = Extract<HostMessage, { type: 'importance' }>;
const msg = (m: Omit<ImportanceMessage, 'type' | 'measuredOnPlanModel' | 'picked' | 'canComputeSimilarity'> & Partial<ImportanceMessage>): ImportanceMessage =>
  ({ type: 'importance', measuredOnPlanModel: m.importance !== null, picked: false, canComputeSimilarity: true, ...m });

interface ChartInfo { labels: string[]; datasets: { label: string; data: number[] }[]; blocks: { base: number; status: string; trainable: boolean; newAfter: number }[] | null }
async function chart(v: ViewPage, key: string): Promise<ChartInfo> {
  return v.page.evaluate((k) => {
    const view = (window as unknown as { slayerView: { charts: Map<string, { data: { labels: string[]; datasets: { label: string; data: number[] }[] }; options: { plugins: { slayerOverlay: { blocks: ChartInfo['blocks'] } } } }> } }).slayerView;
    const c = view.charts.get(k)!;
    return { labels: c.data.labels, datasets: c.data.datasets.map((d) => ({ label: d.label, data: [...d.data] })), blocks: c.options.plugins.slayerOverlay.blocks };
  }, key);
}

/** Pixel colour inside the chart area at block `i`'s column, near the top (where no bar reaches). */
async function pixelAtBlock(v: ViewPage, key: string, i: number): Promise<number[]> {
  return v.page.evaluate(([k, block]) => {
    const view = (window as unknown as { slayerView: { charts: Map<string, { canvas: HTMLCanvasElement; chartArea: { top: number }; scales: { x: { getPixelForValue(v: number): number } }; currentDevicePixelRatio: number }> } }).slayerView;
    const c = view.charts.get(k as string)!;
    const r = c.currentDevicePixelRatio;
    const d = c.canvas.getContext('2d')!.getImageData(Math.round(c.scales.x.getPixelForValue(block as number) * r), Math.round((c.chartArea.top + 30) * r), 1, 1).data;
    return [d[0]!, d[1]!, d[2]!];
  }, [key, i] as const);
}

describe('layer importance view (Chromium)', () => {
  const v = viewForSuite('importance', { height: 1100 });

  it('says when nothing is measured yet, draws the plan\'s blocks anyway, and offers to start a run or open a file', async () => {
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post(msg({ importance: null, source: null, overlay, notes: [], similarity: null, canComputeSimilarity: false }));
    assert.equal(await v.page.locator('#no-data').isVisible(), true);
    assert.equal(await v.page.locator('#section-plan').isVisible(), true, 'the plan is drawn before any data exists');
    for (const k of ['angular', 'removal', 'insertion', 'similarity']) assert.equal(await v.page.locator(`#section-${k}`).isVisible(), false, k);
    const plan = await chart(v, 'plan');
    assert.equal(plan.labels.length, 32);
    assert.deepEqual(plan.blocks!.filter((b) => b.status === 'deleted').map((b) => b.base), [30, 31]);
    assert.equal(await v.page.locator('#legend-deleted').textContent(), 'deleted: 30, 31');
    // No local checkpoint behind the plan: weight similarity is not offered.
    assert.equal(await v.page.locator('#compute-similarity').isVisible(), false);
    assert.equal(await v.page.locator('#clear-file').isVisible(), false);
    await v.screenshot('importance-plan-only.png');
    await v.post(msg({ importance: null, source: null, overlay, notes: [], similarity: null }));
    assert.equal(await v.page.locator('#compute-similarity').isVisible(), true);
    await v.page.locator('#start-run').click();
    await v.page.locator('#open-file').click();
    const types = (await v.sent()).map((m) => m.type);
    assert.deepEqual(types, ['ready', 'startRun', 'openImportanceFile']);
  });

  it('shows weight-space similarity from the checkpoint when nothing is measured, with the plan overlaid', async () => {
    await v.page.locator('#compute-similarity').click();
    await v.waitForSent((m) => m.type === 'computeSimilarity', 'computeSimilarity');
    const blockCosine = Array.from({ length: 31 }, (_, i) => 0.5 + i / 100);
    const meanCosine = blockCosine.map((x) => x - 0.1);
    await v.post(msg({ importance: null, source: null, overlay, notes: [], similarity: { source: '/models/llama-2-7b', blockCosine, meanCosine } }));
    await frames(v.page);
    assert.equal(await v.page.locator('#no-data').isVisible(), true, 'still says nothing is measured');
    assert.equal(await v.page.locator('#section-similarity').isVisible(), true);
    for (const k of ['angular', 'removal', 'insertion']) assert.equal(await v.page.locator(`#section-${k}`).isVisible(), false, k);
    const c = await chart(v, 'similarity');
    assert.equal(c.labels.length, 32);
    assert.deepEqual(c.datasets.map((d) => d.label), ['whole block', 'mean over matrices']);
    assert.deepEqual(c.datasets[0]!.data, [...blockCosine, null]);
    assert.deepEqual(c.blocks!.filter((b) => b.status === 'deleted').map((b) => b.base), [30, 31]);
    assert.match((await v.page.locator('#caption').textContent())!, /weight similarity of \/models\/llama-2-7b/);
  });

  it('draws Figure 2 (a)–(c) from importance.json', async () => {
    await v.post(msg({ importance, source: 'run r-1/out/importance.json', overlay, notes: [], similarity: null }));
    assert.equal(await v.page.locator('#section-similarity').isVisible(), false);
    await frames(v.page);
    assert.equal(await v.page.locator('#no-data').isVisible(), false);
    const a = await chart(v, 'angular');
    assert.equal(a.labels.length, 32);
    assert.deepEqual(a.datasets.map((d) => d.label), ['all tokens', 'last token']);
    assert.deepEqual(a.datasets[0]!.data, importance.angular_all);
    assert.deepEqual(a.datasets[1]!.data, importance.angular_last);
    const b = await chart(v, 'removal');
    assert.deepEqual(b.datasets.map((d) => d.label), ['removed']);
    assert.deepEqual(b.datasets[0]!.data, importance.removal_drop);
    const c = await chart(v, 'insertion');
    assert.deepEqual(c.datasets.map((d) => d.label), ['copy init', 'average init']);
    assert.deepEqual(c.datasets[1]!.data, importance.insert_average_drop);
  });

  it('overlays the plan: new blocks, deleted blocks, trainable blocks, on every chart and in the legend', async () => {
    for (const key of ['angular', 'removal', 'insertion']) {
      const o = (await chart(v, key)).blocks!;
      assert.deepEqual(o.filter((x) => x.newAfter > 0).map((x) => x.base), [1, 3, 5, 7, 9, 11, 13, 15], key);
      assert.deepEqual(o.filter((x) => x.status === 'deleted').map((x) => x.base), [30, 31], key);
      assert.deepEqual(o.filter((x) => x.trainable).map((x) => x.base), [29], key);
    }
    assert.equal(await v.page.locator('#legend-added').textContent(), '8 new blocks (average init)');
    assert.equal(await v.page.locator('#legend-deleted').textContent(), 'deleted: 30, 31');
    assert.equal(await v.page.locator('#legend-trainable').textContent(), 'trainable original blocks: 29');
    // The bands are really painted: red over deleted block 30, purple over the final block 29,
    // plain background over block 20.
    const [d, f, plain] = [await pixelAtBlock(v, 'removal', 30), await pixelAtBlock(v, 'removal', 29), await pixelAtBlock(v, 'removal', 20)];
    assert.ok(d[0]! > plain[0]! + 30 && d[0]! > d[1]! + 20, `deleted band ${d} vs ${plain}`);
    assert.ok(f[2]! > plain[2]! + 30 && f[0]! > plain[0]! + 20, `trainable band ${f} vs ${plain}`);
    await v.screenshot('importance.png');
  });

  it('offers to add a block where the user clicks between two blocks', async () => {
    const px = await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { canvas: HTMLCanvasElement; chartArea: { top: number; bottom: number }; scales: { x: { getPixelForValue(v: number): number } } }> } }).slayerView;
      const c = view.charts.get('angular')!;
      const r = c.canvas.getBoundingClientRect();
      return { x: r.left + (c.scales.x.getPixelForValue(17) + c.scales.x.getPixelForValue(18)) / 2 - 2, y: r.top + (c.chartArea.top + c.chartArea.bottom) / 2 };
    });
    await v.page.mouse.click(px.x, px.y);
    assert.equal(await v.page.locator('#offer-text').textContent(), 'Add a new block between block 17 and block 18 (average init)?');
    await v.page.locator('#offer-add').click();
    const m = await v.waitForSent((x) => x.type === 'addBlock', 'addBlock');
    assert.deepEqual(m, { type: 'addBlock', afterBlock: 17 });
    // The host's answer: the edited plan's overlay (one more block after 17).
    const edited = analyzePlan('model meta-llama/Llama-2-7b-hf\nexpand (2+1)x9 | 11 | 1◇\n');
    await v.post(msg({ importance, source: 'run r-1/out/importance.json', overlay: planOverlay(edited.layout!, { planFile: null, expand: edited.canonicalExpansion!, init: edited.init }), notes: [], similarity: null }));
    await frames(v.page);
    assert.deepEqual((await chart(v, 'angular')).blocks!.filter((x) => x.newAfter > 0).map((x) => x.base), [1, 3, 5, 7, 9, 11, 13, 15, 17]);
    await v.post({ type: 'notice', level: 'error', message: 'block 30 is deleted by the plan' });
    assert.equal(await v.page.locator('#notice').textContent(), 'block 30 is deleted by the plan');
  });

  it('hides the last-token series on request and keeps that after a reload', async () => {
    await v.page.locator('#show-last').uncheck();
    assert.deepEqual((await chart(v, 'angular')).datasets.map((d) => d.label), ['all tokens']);
    await v.page.reload();
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post(msg({ importance, source: null, overlay, notes: [], similarity: null }));
    assert.deepEqual((await chart(v, 'angular')).datasets.map((d) => d.label), ['all tokens']);
    assert.equal(await v.page.locator('#show-last').isChecked(), false);
  });

  it('exports the three charts as one PNG and recolours the overlay on a theme change', async () => {
    await v.page.locator('#export-png').click();
    const png = await v.waitForSent((m) => m.type === 'export' && m.format === 'png', 'a PNG export') as Extract<ViewMessage, { format: 'png' }>;
    assert.equal(png.fileName, 'layer-importance.png');
    const view = new DataView(pngBytes(png.dataUrl).buffer);
    assert.ok(view.getUint32(16) >= 800, `PNG width ${view.getUint32(16)}`);
    await v.page.evaluate(() => document.documentElement.style.setProperty('--vscode-charts-red', '#00ff00'));
    await frames(v.page);
    const d = await pixelAtBlock(v, 'removal', 30);
    assert.ok(d[1]! > d[0]! + 30, `the deleted band follows the theme's red (now green): ${d}`);
  });

  it('never draws the plan over a measurement of another model, even of the same depth', async () => {
    const other = { ...importance, model: '/models/Mistral-7B-v0.1' };
    await v.post(msg({ importance: other, source: '/tmp/mistral/importance.json', overlay, notes: ['The measurement is of /models/Mistral-7B-v0.1 (32 blocks), not of the plan\'s model meta-llama/Llama-2-7b-hf (32 blocks): the plan is not drawn over it.'], similarity: null, measuredOnPlanModel: false, picked: true }));
    await frames(v.page);
    for (const key of ['angular', 'removal', 'insertion']) assert.equal((await chart(v, key)).blocks, null, key);
    assert.equal(await v.page.locator('#legend-added').count(), 0, 'no plan legend either');
    assert.match(await v.page.locator('#notes').innerText(), /not of the plan's model/);
    const plain = await pixelAtBlock(v, 'removal', 20);
    assert.deepEqual(await pixelAtBlock(v, 'removal', 30), plain, 'no deleted band painted');
    // A picked file can be cleared (back to the newest run's measurement).
    await v.page.locator('#clear-file').click();
    await v.waitForSent((m) => m.type === 'clearImportanceFile', 'clearImportanceFile');
  });

  it('draws a weight similarity of another depth on its own axis, never on the measurement\'s', async () => {
    const blockCosine = Array.from({ length: 7 }, (_, i) => 0.9 - i / 100);
    await v.post(msg({ importance, source: 'run r-1/out/importance.json', overlay, notes: [], similarity: { source: '/ws/tiny-llama', blockCosine, meanCosine: blockCosine }, measuredOnPlanModel: true }));
    await frames(v.page);
    assert.equal((await chart(v, 'angular')).labels.length, 32);
    const sim = await chart(v, 'similarity');
    assert.equal(sim.labels.length, 8, 'eight blocks, not the measurement\'s 32');
    assert.equal(sim.blocks, null, 'the 32-block plan is not drawn over an 8-block similarity');
    assert.equal((await chart(v, 'angular')).blocks!.length, 32);
  });

  it('raised no CSP violation and no console error', async () => {
    assert.deepEqual(await v.problems(), []);
  });
});
