// The live training curves view in real headless Chromium, fed with recorded runner events: a run
// that was resumed (steps 301–350 arrive twice) and a second run to overlay.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metricBatches } from '../../src/extension/webviews/curvesData';
import { parseEventLine } from '../../src/protocol/runnerEvents';
import { pngBytes, type ViewMessage } from '../../src/messages/webviewMessages';
import type { MetricColumns } from '../../src/shared/series';
import { frames, ROOT, type ViewPage, viewForSuite } from './harness';

const FIX = join(ROOT, 'test', 'fixtures', 'webview');
const A = 'r-20261125-aaaaaa';
const B = 'r-20261125-bbbbbb';
const load = (f: string) => readFileSync(join(FIX, f), 'utf8').trim().split('\n').map(parseEventLine);
const eventsA = load('run-a.events.jsonl');
const eventsB = load('run-b.events.jsonl');
const RUNS = [
  { id: A, label: 'SLayer (2+1)x8 | 13 | 1◇', host: 'localhost', state: 'succeeded' },
  { id: B, label: 'lr 1e-4 ablation', host: 'gpu-box', state: 'succeeded' },
];

/** Columns → batches of `size` points, as the run registry delivers events while a run streams. */
function batches(c: MetricColumns, size: number): MetricColumns[] {
  const out: MetricColumns[] = [];
  for (let i = 0; i < c.step.length; i += size) {
    const s = (a: number[]) => a.slice(i, i + size);
    out.push({ step: s(c.step), tokens: s(c.tokens), loss: s(c.loss), lr: s(c.lr), gradNorm: s(c.gradNorm), tokensPerS: s(c.tokensPerS), time: s(c.time!), evalLoss: s(c.evalLoss!) });
  }
  return out;
}

interface DatasetInfo { label: string; n: number; hidden: boolean; xs: number[]; ys: number[]; color: string }
async function datasets(v: ViewPage, chart: string): Promise<DatasetInfo[]> {
  return v.page.evaluate((key) => {
    const view = (window as unknown as { slayerView: { charts: Map<string, { data: { datasets: { label: string; data: { x: number; y: number }[]; hidden: boolean; borderColor: string }[] } }> } }).slayerView;
    return view.charts.get(key)!.data.datasets.map((d) => ({ label: d.label, n: d.data.length, hidden: d.hidden, xs: d.data.map((p) => p.x), ys: d.data.map((p) => p.y), color: d.borderColor }));
  }, chart);
}

describe('training curves view (Chromium)', () => {
  const v = viewForSuite('curves');

  it('asks for data with ready, then selects the newest run when the run list arrives', async () => {
    const ready = await v.waitForSent((m) => m.type === 'ready', 'ready');
    assert.deepEqual(ready, { type: 'ready', view: 'curves', protocol: 1 });
    assert.equal((await v.sent()).length, 1, 'nothing but ready before the host answers');
    await v.post({ type: 'runs', runs: RUNS, focus: null });
    const sel = await v.waitForSent((m) => m.type === 'selectRuns', 'selectRuns');
    assert.deepEqual(sel, { type: 'selectRuns', runIds: [A] });
  });

  it('appends batches in place; a resumed run replaces repeated steps instead of duplicating them', async () => {
    const cols = metricBatches(eventsA).get('cpt')!;
    assert.equal(cols.step.length, 450, 'the recording holds 50 repeated steps');
    await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { data: { datasets: unknown[] } }> } }).slayerView;
      (window as unknown as { __ref: unknown }).__ref = view.charts;
    });
    const parts = batches(cols, 50);
    for (const [i, p] of parts.entries()) {
      await v.post({ type: 'metrics', runId: A, stage: 'cpt', reset: i === 0, points: p });
      if (i === 0) {
        await frames(v.page);
        await v.page.evaluate(() => {
          const w = window as unknown as { slayerView: { charts: Map<string, { data: { datasets: { data: unknown }[] } }> }; __data: unknown };
          w.__data = w.slayerView.charts.get('loss')!.data.datasets[0]!.data;
        });
      }
    }
    await frames(v.page);
    const loss = await datasets(v, 'loss');
    assert.deepEqual(loss.map((d) => d.label), [`${RUNS[0]!.label} (raw)`, `${RUNS[0]!.label} (smoothed)`]);
    const raw = loss[0]!;
    assert.equal(raw.n, 400, '400 distinct steps, not 450');
    assert.deepEqual(raw.xs, Array.from({ length: 400 }, (_, i) => i + 1));
    // After the resume the values are the re-run's, not the abandoned ones.
    const lastByStep = new Map<number, number>();
    cols.step.forEach((s, i) => lastByStep.set(s, cols.loss[i]!));
    for (const step of [300, 301, 325, 350, 351, 400]) assert.ok(Math.abs(raw.ys[step - 1]! - lastByStep.get(step)!) < 1e-5, `step ${step}`);
    assert.ok(Math.max(...raw.ys) > 4, 'the loss spike at step 137 is drawn');
    const same = await v.page.evaluate(() => {
      const w = window as unknown as { slayerView: { charts: Map<string, { data: { datasets: { data: unknown }[] } }> }; __data: unknown };
      return w.slayerView.charts.get('loss')!.data.datasets[0]!.data === w.__data;
    });
    assert.ok(same, 'the chart kept its data array: appended to, never rebuilt');
    for (const key of ['lr', 'gradNorm', 'tokensPerS']) assert.equal((await datasets(v, key))[0]!.n, 400, key);
  });

  it('smooths the loss with a debiased EMA and hides the EMA at 0', async () => {
    await v.page.locator('#smoothing').fill('0.9');
    await frames(v.page);
    const [raw, ema] = await datasets(v, 'loss');
    assert.equal(ema!.hidden, false);
    // Recompute the debiased EMA here from the recorded values (float32 like the view).
    let acc = 0;
    let w = 0;
    const expected = raw!.ys.map((y) => {
      acc = 0.9 * acc + 0.1 * y;
      w = 0.9 * w + 0.1;
      return acc / w;
    });
    for (const i of [0, 10, 136, 137, 250, 399]) assert.ok(Math.abs(ema!.ys[i]! - expected[i]!) < 1e-4, `EMA at point ${i}: ${ema!.ys[i]} vs ${expected[i]}`);
    assert.ok(Math.max(...ema!.ys) < Math.max(...raw!.ys) - 1, 'the spike is smoothed');
    await v.page.locator('#smoothing').fill('0');
    await frames(v.page);
    assert.equal((await datasets(v, 'loss'))[1]!.hidden, true);
    await v.page.locator('#smoothing').fill('0.9');
  });

  it('switches the y axes to logarithmic and the x axis to tokens', async () => {
    await v.page.locator('#log-y').check();
    await frames(v.page);
    const types = await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { scales: { y: { type: string } } }> } }).slayerView;
      return [...view.charts.values()].map((c) => c.scales.y.type);
    });
    assert.deepEqual(types, ['logarithmic', 'logarithmic', 'logarithmic', 'logarithmic']);
    await v.page.locator('#x-axis').selectOption('tokens');
    await frames(v.page);
    const raw = (await datasets(v, 'loss'))[0]!;
    assert.equal(raw.xs[0], 32768);
    assert.equal(raw.xs[399], 400 * 32768);
    await v.page.locator('#x-axis').selectOption('step');
  });

  it('overlays a second run selected in the run list', async () => {
    await v.page.locator(`input[data-run="${B}"]`).check();
    const sel = await v.waitForSent((m) => m.type === 'selectRuns' && m.runIds.length === 2, 'selectRuns with both runs');
    assert.deepEqual(sel, { type: 'selectRuns', runIds: [A, B] });
    await v.post({ type: 'metrics', runId: B, stage: 'cpt', reset: true, points: metricBatches(eventsB).get('cpt')! });
    await frames(v.page);
    const loss = await datasets(v, 'loss');
    assert.equal(loss.length, 4);
    assert.deepEqual(loss.map((d) => d.n), [400, 400, 400, 400]);
    assert.notEqual(loss[1]!.color, loss[3]!.color, 'runs get different colours');
    assert.equal(loss[1]!.color, '#3794ff', 'colours come from the theme variables');
    assert.equal(loss[3]!.color, '#d18616');
    await v.screenshot('curves.png');
  });

  it('titles every chart and lists each run once in each legend, raw and smoothed told apart by style', async () => {
    const info = await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { options: { plugins: { title: { display: boolean; text: string } } }; legend: { legendItems: { text: string; fillStyle: string }[] } }> } }).slayerView;
      return [...view.charts.values()].map((c) => ({ title: c.options.plugins.title.display ? c.options.plugins.title.text : '', legend: c.legend.legendItems.map((i) => i.text) }));
    });
    assert.deepEqual(info.map((i) => i.title), ['Loss', 'Learning rate', 'Gradient norm', 'Throughput (tokens/s)']);
    for (const i of info) assert.deepEqual(i.legend, [RUNS[0]!.label, RUNS[1]!.label], 'one entry per run, not one per curve');
    const loss = await datasets(v, 'loss');
    assert.equal(loss.length, 4, 'each run still draws a raw and a smoothed curve');
    const widths = await v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { data: { datasets: { borderWidth: number }[] } }> } }).slayerView;
      return view.charts.get('loss')!.data.datasets.map((d) => d.borderWidth);
    });
    assert.deepEqual(widths, [1, 2, 1, 2], 'raw thin and faint, smoothed thick');
    assert.match(await v.page.locator('#style-key').innerText(), /Thick: smoothed \(EMA\) · faint: raw/);
    // Every metric is smoothed, not only the loss.
    for (const key of ['lr', 'gradNorm', 'tokensPerS']) {
      const [raw, smooth] = await datasets(v, key);
      assert.equal(smooth!.hidden, false, key);
      assert.notDeepEqual(raw!.ys, smooth!.ys, `${key} has its own smoothed curve`);
    }
  });

  it('zooms with the wheel, pans with a drag and resets with a double-click, all charts together', async () => {
    const canvas = v.page.locator('#chart-loss');
    const box = (await canvas.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const ranges = () => v.page.evaluate(() => {
      const view = (window as unknown as { slayerView: { charts: Map<string, { scales: { x: { min: number; max: number } } }> } }).slayerView;
      return [...view.charts.values()].map((c) => [c.scales.x.min, c.scales.x.max] as [number, number]);
    });
    const [full] = await ranges();
    await v.page.mouse.move(cx, cy);
    await v.page.mouse.wheel(0, -300);
    await frames(v.page);
    const zoomed = await ranges();
    const [zmin, zmax] = zoomed[0]!;
    assert.ok(zmin > full![0] && zmax < full![1], `zoomed in: ${zmin}–${zmax} inside ${full}`);
    for (const r of zoomed) assert.deepEqual(r, zoomed[0], 'every chart shows the same x range');
    assert.equal(await v.page.locator('#reset-zoom').isVisible(), true);
    // Zoomed in, the window is decimated afresh: more points of it are drawn than before.
    const inWindow = (d: DatasetInfo) => d.xs.filter((x) => x >= zmin && x <= zmax).length;
    const raw = (await datasets(v, 'loss'))[0]!;
    assert.ok(inWindow(raw) >= Math.min(400, Math.floor((zmax - zmin) * 0.9)), `the window holds ${inWindow(raw)} points`);

    await v.page.mouse.move(cx, cy);
    await v.page.mouse.down();
    await v.page.mouse.move(cx + 80, cy, { steps: 4 });
    await v.page.mouse.up();
    await frames(v.page);
    const [pmin, pmax] = (await ranges())[0]!;
    assert.ok(pmin < zmin && pmax < zmax, `dragging right shows earlier steps: ${pmin}–${pmax}`);
    assert.ok(Math.abs((pmax - pmin) - (zmax - zmin)) < 1e-6, 'panning keeps the width');

    await v.page.mouse.dblclick(cx, cy);
    await frames(v.page);
    assert.deepEqual((await ranges())[0], full);
    assert.equal(await v.page.evaluate(() => (window as unknown as { slayerView: { zoom(): unknown } }).slayerView.zoom()), null);
    assert.equal(await v.page.locator('#reset-zoom').isVisible(), false);
  });

  it('puts wall time on the x axis, from each run\'s first point', async () => {
    await v.page.locator('#x-axis').selectOption('time');
    await frames(v.page);
    const raw = (await datasets(v, 'loss'))[0]!;
    const times = eventsA.filter((e) => e.kind === 'metric').map((e) => e.t);
    assert.equal(raw.xs[0], 0);
    assert.ok(Math.abs(raw.xs[raw.xs.length - 1]! - (times[times.length - 1]! - times[0]!)) < 1e-6);
    const title = await v.page.evaluate(() => (window as unknown as { slayerView: { charts: Map<string, { options: { scales: { x: { title: { text: string } } } } }> } }).slayerView.charts.get('loss')!.options.scales.x.title.text);
    assert.equal(title, 'wall time');
    await v.page.locator('#x-axis').selectOption('step');
    await frames(v.page);
  });

  it('exports the raw points and the smoothed loss as CSV, and the charts as a PNG', async () => {
    await v.page.locator('#export-csv').click();
    const csv = await v.waitForSent((m) => m.type === 'export' && m.format === 'csv', 'a CSV export') as Extract<ViewMessage, { format: 'csv' }>;
    const rows = csv.content.trim().split('\n');
    assert.equal(rows[0], 'run,stage,step,tokens,loss,loss_smoothed,lr,grad_norm,tokens_per_s,time_s,eval_loss');
    assert.equal(rows.length, 801);
    assert.equal(Number(rows[1]!.split(',')[9]), 0, 'time_s from the first point');
    const keys = rows.slice(1).map((r) => r.split(',').slice(0, 3).join(','));
    assert.equal(new Set(keys).size, 800, 'one row per run and step');
    const spike = rows.find((r) => r.startsWith(`${A},cpt,137,`))!.split(',');
    const recorded = eventsA.find((e) => e.kind === 'metric' && e.step === 137);
    assert.ok(recorded && recorded.kind === 'metric');
    assert.ok(Math.abs(Number(spike[4]) - recorded.loss) < 1e-5);
    assert.equal(Number(spike[3]), 137 * 32768);

    await v.page.locator('#export-png').click();
    const png = await v.waitForSent((m) => m.type === 'export' && m.format === 'png', 'a PNG export') as Extract<ViewMessage, { format: 'png' }>;
    const bytes = pngBytes(png.dataUrl);
    const view = new DataView(bytes.buffer);
    assert.ok(view.getUint32(16) >= 800 && view.getUint32(20) >= 400, `PNG is ${view.getUint32(16)}×${view.getUint32(20)}`);
  });

  it('follows a theme change', async () => {
    await v.page.evaluate(() => {
      document.documentElement.style.setProperty('--vscode-charts-blue', '#ff0000');
      document.body.classList.replace('vscode-dark', 'vscode-light');
    });
    await frames(v.page);
    assert.equal((await datasets(v, 'loss'))[1]!.color, '#ff0000');
  });

  it('restores its state after a reload and asks for the same runs again', async () => {
    await v.page.reload();
    await v.waitForSent((m) => m.type === 'ready', 'ready after reload');
    await v.post({ type: 'runs', runs: RUNS, focus: null });
    const sel = await v.waitForSent((m) => m.type === 'selectRuns', 'selectRuns after reload');
    assert.deepEqual(sel, { type: 'selectRuns', runIds: [A, B] });
    const ui = await v.page.evaluate(() => ({
      smoothing: (document.getElementById('smoothing') as HTMLInputElement).value,
      logY: (document.getElementById('log-y') as HTMLInputElement).checked,
    }));
    assert.deepEqual(ui, { smoothing: '0.9', logY: true });
  });

  it('raised no CSP violation and no console error', async () => {
    assert.deepEqual(await v.problems(), []);
  });
});

describe('training curves in a half-width editor group (Chromium)', () => {
  const v = viewForSuite('curves', { width: 560, height: 900 });
  const named = [
    { ...RUNS[0]!, name: 'slayer8b-1', color: '#17becf' },
    { ...RUNS[1]!, name: 'slayer8b-2', color: '#e377c2' },
  ];

  it('uses the run names and colours the host sends, and draws eval loss when the runner measured it', async () => {
    await v.waitForSent((m) => m.type === 'ready', 'ready');
    await v.post({ type: 'runs', runs: named, focus: B });
    await v.waitForSent((m) => m.type === 'selectRuns' && m.runIds.length === 1, 'the focused run selected');
    await v.page.locator(`input[data-run="${A}"]`).check();
    await v.waitForSent((m) => m.type === 'selectRuns' && m.runIds.length === 2, 'both runs selected');
    const a = metricBatches(eventsA).get('cpt')!;
    // Eval every 50 steps, a little above the training loss.
    a.evalLoss = a.step.map((s, i) => (s % 50 === 0 ? a.loss[i]! + 0.1 : NaN));
    await v.post({ type: 'metrics', runId: A, stage: 'cpt', reset: true, points: a });
    await v.post({ type: 'metrics', runId: B, stage: 'cpt', reset: true, points: metricBatches(eventsB).get('cpt')! });
    await frames(v.page, 4);
    const loss = await datasets(v, 'loss');
    const evalTrace = loss.find((d) => d.label === 'slayer8b-1 (eval)')!;
    assert.ok(evalTrace, JSON.stringify(loss.map((d) => d.label)));
    assert.equal(evalTrace.n, 8, 'steps 50, 100, …, 400');
    assert.deepEqual(evalTrace.xs, [50, 100, 150, 200, 250, 300, 350, 400]);
    assert.equal(evalTrace.color, '#17becf');
    assert.ok(loss.filter((d) => d.label.startsWith('slayer8b-2')).every((d) => d.color.includes('227, 119, 194') || d.color === '#e377c2'), 'the host\'s colour');
    const legend = await v.page.evaluate(() => (window as unknown as { slayerView: { charts: Map<string, { legend: { legendItems: { text: string }[] } }> } }).slayerView.charts.get('loss')!.legend.legendItems.map((i) => i.text));
    assert.deepEqual(legend, ['slayer8b-1', 'slayer8b-2'], 'eval loss adds no legend entry either');
    assert.match(await v.page.locator('#style-key').innerText(), /dashed with dots: eval loss/);
    const labels = await v.page.locator('#runs label').allInnerTexts();
    assert.deepEqual(labels.map((t) => t.trim()), ['slayer8b-1 succeeded', 'slayer8b-2 succeeded'], 'the run list shows names');
  });

  it('lays the charts out one per row at half width, each wide enough to read', async () => {
    const boxes = await v.page.locator('section.chart').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, w: r.width })));
    assert.equal(boxes.length, 4);
    for (const b of boxes) assert.ok(b.w >= 500, `chart width ${b.w}`);
    assert.equal(new Set(boxes.map((b) => b.x)).size, 1, 'one column');
    const file = await v.screenshot('curves-half-width.png');
    assert.ok(file.endsWith('curves-half-width.png'));
    assert.deepEqual(await v.problems(), []);
  });
});
