// Live training curves: loss (raw and EMA-smoothed), learning rate, gradient norm and tokens/s
// against step or tokens, for one or several runs overlaid. Events arrive in batches; each batch
// is appended to typed-array columns, and at most once per animation frame the decimated tails are
// updated in place and the charts redrawn with update('none') — data is never rebuilt on append.
// While data streams, each chart redraws at most 10 times a second and a frame spends a bounded
// time drawing; what does not fit moves to the next frames.
import type { HostMessage, MetricColumns, RunSummary } from '../src/protocol/webviewMessages';
import { applyThemeDefaults, baseLineOptions, Chart, composePng, recolorChart } from './shared/charts';
import { csvRow } from './shared/csv';
import { MinMaxDecimator, type XY } from './shared/decimate';
import { byId, clear, h } from './shared/dom';
import { Ema } from './shared/ema';
import { MetricSeries, type MetricKey, type XKey } from './shared/series';
import { onThemeChange, readTheme, withAlpha, type Theme } from './shared/theme';
import { connect, loadState, post, saveState } from './shared/vscodeApi';

interface CurvesState {
  selected: string[];
  smoothing: number;
  logY: boolean;
  xAxis: XKey;
}

const state = loadState<CurvesState>({ selected: [], smoothing: 0.6, logY: false, xAxis: 'step' });
let theme: Theme = readTheme();
applyThemeDefaults(theme);

const PANELS: { key: MetricKey; title: string }[] = [
  { key: 'loss', title: 'Loss' },
  { key: 'lr', title: 'Learning rate' },
  { key: 'gradNorm', title: 'Gradient norm' },
  { key: 'tokensPerS', title: 'Tokens / s' },
];

/** A dataset on a chart and the decimator that feeds it. */
interface Trace {
  chart: MetricKey;
  smoothed: boolean;
  dataset: { label: string; data: XY[]; borderColor: string; backgroundColor: string; hidden: boolean; borderWidth: number; order: number };
  decimator: MinMaxDecimator;
}

interface SeriesView {
  series: MetricSeries;
  runIndex: number;
  ema: Ema;
  traces: Trace[];
}

let runs: RunSummary[] = [];
const seriesByKey = new Map<string, SeriesView>();
const charts = new Map<MetricKey, Chart<'line', XY[]>>();
let frameRequested = false;
/** Off only in the benchmark's baseline: same data work, no chart updates. */
let drawing = true;

// --------------------------------------------------------------------------------------------
// Layout

const app = byId('app');
const runList = h('div', { class: 'runs', id: 'runs' });
const smoothing = h('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, value: state.smoothing, 'aria-label': 'Loss smoothing (EMA weight)' });
const smoothingValue = h('span', { id: 'smoothing-value' }, state.smoothing.toFixed(2));
const logY = h('input', { type: 'checkbox', id: 'log-y' });
logY.checked = state.logY;
const xAxis = h('select', { id: 'x-axis', 'aria-label': 'X axis' }, h('option', { value: 'step' }, 'step'), h('option', { value: 'tokens' }, 'tokens'));
xAxis.value = state.xAxis;
const empty = h('p', { class: 'note', id: 'empty' }, 'No run selected. Start one with “SLayer: Run Expansion”; its curves appear here as it trains.');
app.append(
  h('header', { class: 'toolbar' },
    h('label', {}, 'Smoothing ', smoothing, ' ', smoothingValue),
    h('label', {}, logY, ' log y'),
    h('label', {}, 'x: ', xAxis),
    h('button', { id: 'export-csv', onclick: exportCsv }, 'Export CSV'),
    h('button', { id: 'export-png', onclick: exportPng }, 'Export PNG'),
  ),
  runList,
  empty,
);
const grid = h('div', { class: 'grid' });
app.append(grid);
for (const p of PANELS) {
  const canvas = h('canvas', { id: `chart-${p.key}`, role: 'img', 'aria-label': p.title });
  grid.append(h('section', { class: 'chart' }, canvas));
  const options = baseLineOptions(theme, p.title, state.xAxis);
  if (state.logY) options.scales!.y!.type = 'logarithmic';
  charts.set(p.key, new Chart<'line', XY[]>(canvas, { type: 'line', data: { datasets: [] }, options }));
}

smoothing.addEventListener('input', () => {
  state.smoothing = Number(smoothing.value);
  smoothingValue.textContent = state.smoothing.toFixed(2);
  saveState(state);
  for (const v of seriesByKey.values()) {
    v.ema.setSmoothing(state.smoothing, v.series.y('loss'), v.series.length);
    for (const t of v.traces) if (t.smoothed) t.decimator = rebuildTrace(v, t);
    styleLossTraces(v);
  }
  redrawAll();
});
logY.addEventListener('change', () => {
  state.logY = logY.checked;
  saveState(state);
  for (const c of charts.values()) c.options.scales!.y!.type = state.logY ? 'logarithmic' : 'linear';
  redrawAll();
});
xAxis.addEventListener('change', () => {
  state.xAxis = xAxis.value === 'tokens' ? 'tokens' : 'step';
  saveState(state);
  for (const c of charts.values()) {
    const x = c.options.scales!.x as { title: { text: string } };
    x.title.text = state.xAxis;
  }
  for (const v of seriesByKey.values()) for (const t of v.traces) t.decimator = rebuildTrace(v, t);
  redrawAll();
});

onThemeChange((t) => {
  theme = t;
  applyThemeDefaults(t);
  for (const v of seriesByKey.values()) colorTraces(v);
  for (const c of charts.values()) recolorChart(c, t);
  redrawAll();
});

// --------------------------------------------------------------------------------------------
// Data

function seriesKey(runId: string, stage: string): string {
  return `${runId}\u241f${stage}`;
}

function runLabel(runId: string): string {
  return runs.find((r) => r.id === runId)?.label ?? runId;
}

function colorOf(v: SeriesView): string {
  return theme.palette[v.runIndex % theme.palette.length]!;
}

function styleLossTraces(v: SeriesView): void {
  const smoothed = state.smoothing > 0;
  for (const t of v.traces) {
    if (t.chart !== 'loss') continue;
    if (t.smoothed) t.dataset.hidden = !smoothed;
    else {
      t.dataset.borderColor = smoothed ? withAlpha(colorOf(v), 0.3) : colorOf(v);
      t.dataset.borderWidth = 1;
    }
  }
}

function colorTraces(v: SeriesView): void {
  for (const t of v.traces) {
    t.dataset.borderColor = colorOf(v);
    t.dataset.backgroundColor = colorOf(v);
  }
  styleLossTraces(v);
}

function yOf(v: SeriesView, t: Trace): ArrayLike<number> {
  return t.smoothed ? v.ema.values : v.series.y(t.chart);
}

/** A fresh decimator for a trace (x axis or smoothing changed): the dataset gets its new array. */
function rebuildTrace(v: SeriesView, t: Trace): MinMaxDecimator {
  const d = new MinMaxDecimator();
  d.sync(v.series.x(state.xAxis), yOf(v, t), v.series.length, 0);
  t.dataset.data = d.out;
  return d;
}

function ensureSeries(runId: string, stage: string): SeriesView {
  const key = seriesKey(runId, stage);
  let v = seriesByKey.get(key);
  if (v) return v;
  const runIndex = Math.max(0, state.selected.indexOf(runId));
  v = { series: new MetricSeries(runId, stage), runIndex, ema: new Ema(state.smoothing), traces: [] };
  const label = `${runLabel(runId)} · ${stage}`;
  for (const p of PANELS) {
    const add = (smoothed: boolean): void => {
      const decimator = new MinMaxDecimator();
      const dataset = { label: smoothed ? `${label} (EMA)` : label, data: decimator.out, borderColor: '', backgroundColor: '', hidden: false, borderWidth: smoothed ? 2 : 1, order: smoothed ? 0 : 1 };
      v!.traces.push({ chart: p.key, smoothed, dataset, decimator });
      charts.get(p.key)!.data.datasets.push(dataset);
    };
    add(false);
    if (p.key === 'loss') add(true);
  }
  colorTraces(v);
  seriesByKey.set(key, v);
  empty.hidden = true;
  return v;
}

function dropRun(runId: string): void {
  for (const [key, v] of seriesByKey) {
    if (v.series.runId !== runId) continue;
    for (const t of v.traces) {
      const ds = charts.get(t.chart)!.data.datasets;
      const i = ds.indexOf(t.dataset as (typeof ds)[number]);
      if (i >= 0) ds.splice(i, 1);
    }
    seriesByKey.delete(key);
  }
}

function receiveMetrics(runId: string, stage: string, reset: boolean, points: MetricColumns): void {
  if (!state.selected.includes(runId)) return; // a late batch for a run just deselected
  const v = ensureSeries(runId, stage);
  if (reset) v.series.clear();
  v.series.append(points);
  scheduleFrame();
}

function scheduleFrame(): void {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(flush);
}

/** Charts whose data changed and that wait for a redraw, the longest-waiting first. */
const dirty = new Set<MetricKey>();
const lastDrawn = new Map<MetricKey, number>();
/**
 * While data streams, a chart is redrawn at most every MIN_REDRAW_MS (10 times a second is smooth
 * for training curves) and a frame spends at most about FRAME_BUDGET_MS drawing; what does not fit
 * waits for the next frames. Appends themselves never wait.
 */
const MIN_REDRAW_MS = 100;
const FRAME_BUDGET_MS = 6;
/** Time spent in flush (data sync + redraws), for the benchmark. */
const stats = { flushMs: 0, redraws: 0 };

/** Brings every changed series' EMA and decimated tails up to date, then redraws what is due. */
function flush(): void {
  const t0 = performance.now();
  frameRequested = false;
  for (const v of seriesByKey.values()) {
    const from = v.series.takeChangedFrom();
    if (from === Infinity) continue;
    const n = v.series.length;
    v.ema.sync(v.series.y('loss'), n, from);
    const x = v.series.x(state.xAxis);
    for (const t of v.traces) {
      t.decimator.sync(x, yOf(v, t), n, from);
      dirty.add(t.chart);
    }
  }
  if (!drawing) dirty.clear();
  for (const key of dirty) {
    if (performance.now() - t0 > FRAME_BUDGET_MS) break;
    if (t0 - (lastDrawn.get(key) ?? -Infinity) < MIN_REDRAW_MS) continue;
    charts.get(key)!.update('none');
    lastDrawn.set(key, t0);
    dirty.delete(key);
    stats.redraws++;
  }
  if (dirty.size) scheduleFrame();
  stats.flushMs += performance.now() - t0;
}

function redrawAll(): void {
  dirty.clear();
  if (!drawing) return;
  for (const c of charts.values()) c.update('none');
}

// --------------------------------------------------------------------------------------------
// Runs

function renderRuns(): void {
  clear(runList);
  if (runs.length === 0) {
    runList.append(h('span', { class: 'note' }, 'No runs yet.'));
    return;
  }
  for (const r of runs) {
    const box = h('input', { type: 'checkbox', 'data-run': r.id });
    box.checked = state.selected.includes(r.id);
    box.addEventListener('change', () => {
      if (box.checked) state.selected = [...state.selected, r.id];
      else {
        state.selected = state.selected.filter((id) => id !== r.id);
        dropRun(r.id);
        redrawAll();
      }
      saveState(state);
      post({ type: 'selectRuns', runIds: state.selected });
      empty.hidden = state.selected.length > 0;
    });
    runList.append(h('label', { class: 'run', title: `${r.id} on ${r.host}` }, box, ` ${r.label} `, h('span', { class: `state state-${r.state}` }, r.state)));
  }
}

function receiveRuns(next: RunSummary[], focus: string | null): void {
  runs = next;
  const known = new Set(runs.map((r) => r.id));
  const before = state.selected.join('\n');
  state.selected = state.selected.filter((id) => known.has(id));
  if (focus && known.has(focus) && !state.selected.includes(focus)) state.selected = [...state.selected, focus];
  // First open: show the newest run (once; the user may then deselect everything).
  if (!autoSelected && state.selected.length === 0 && runs.length > 0) state.selected = [runs[0]!.id];
  if (runs.length > 0) autoSelected = true;
  for (const v of [...seriesByKey.values()]) if (!known.has(v.series.runId)) dropRun(v.series.runId);
  renderRuns();
  empty.hidden = state.selected.length > 0;
  if (state.selected.join('\n') !== before || !announced) {
    announced = true;
    saveState(state);
    post({ type: 'selectRuns', runIds: state.selected });
  }
}
let announced = false;
let autoSelected = false;

// --------------------------------------------------------------------------------------------
// Export

function csvText(): string {
  const lines = [csvRow(['run', 'stage', 'step', 'tokens', 'loss', 'loss_smoothed', 'lr', 'grad_norm', 'tokens_per_s'])];
  for (const v of seriesByKey.values()) {
    const s = v.series;
    v.ema.sync(s.y('loss'), s.length, s.length);
    for (let i = 0; i < s.length; i++) {
      lines.push(csvRow([s.runId, s.stage, s.step.data[i]!, s.tokens.data[i]!, s.y('loss')[i]!, v.ema.values[i]!, s.y('lr')[i]!, s.y('gradNorm')[i]!, s.y('tokensPerS')[i]!]));
    }
  }
  return `${lines.join('\n')}\n`;
}

function exportCsv(): void {
  post({ type: 'export', format: 'csv', fileName: 'training-curves.csv', content: csvText() });
}

function exportPng(): void {
  flush();
  redrawAll();
  const canvases = PANELS.map((p) => charts.get(p.key)!.canvas);
  post({ type: 'export', format: 'png', fileName: 'training-curves.png', dataUrl: composePng(canvases, theme.background) });
}

// --------------------------------------------------------------------------------------------

function receive(m: HostMessage): void {
  if (m.type === 'runs') receiveRuns(m.runs, m.focus);
  else if (m.type === 'metrics') receiveMetrics(m.runId, m.stage, m.reset, m.points);
}

// A small surface for the Chromium tests and the benchmark (charts and forced frames).
(window as unknown as { slayerView: unknown }).slayerView = {
  charts,
  state,
  receive,
  flush,
  csvText,
  setDrawing(on: boolean): void {
    drawing = on;
  },
  pendingRedraws: () => dirty.size,
  stats,
  series: () => [...seriesByKey.values()].map((v) => ({ runId: v.series.runId, stage: v.series.stage, length: v.series.length, bucketSize: v.traces[0]?.decimator.bucketSize ?? 1, bytes: v.series.bytes() + v.ema.bytes() })),
};

connect('curves', receive);
