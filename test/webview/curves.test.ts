// The live training curves view in real headless Chromium, fed with recorded runner events: a run
// that was resumed (steps 301–350 arrive twice) and a second run to overlay.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { metricBatches } from '../../src/extension/webviews/curvesData';
import { parseEventLine } from '../../src/protocol/runnerEvents';
import { pngBytes, type MetricColumns, type ViewMessage } from '../../src/protocol/webviewMessages';
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
    out.push({ step: s(c.step), tokens: s(c.tokens), loss: s(c.loss), lr: s(c.lr), gradNorm: s(c.gradNorm), tokensPerS: s(c.tokensPerS) });
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
    assert.deepEqual(loss.map((d) => d.label), [`${RUNS[0]!.label} · cpt`, `${RUNS[0]!.label} · cpt (EMA)`]);
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

  it('exports the raw points and the smoothed loss as CSV, and the charts as a PNG', async () => {
    await v.page.locator('#export-csv').click();
    const csv = await v.waitForSent((m) => m.type === 'export' && m.format === 'csv', 'a CSV export') as Extract<ViewMessage, { format: 'csv' }>;
    const rows = csv.content.trim().split('\n');
    assert.equal(rows[0], 'run,stage,step,tokens,loss,loss_smoothed,lr,grad_norm,tokens_per_s');
    assert.equal(rows.length, 801);
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
