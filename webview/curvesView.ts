// Live training curves: loss (with eval loss when the runner measured one), learning rate,
// gradient norm and throughput against step, tokens or wall time, for one or several runs
// overlaid. Every series is shown raw (faint) and smoothed with a debiased EMA; each chart lists a
// run once in its legend. Wheel zooms the x axis, a drag pans, a double-click resets; all charts
// move together. Events arrive in batches; each batch is appended to typed-array columns, and at
// most once per animation frame the decimated tails are updated in place and the charts redrawn
// with update('none') — data is never rebuilt on append. While data streams, each chart redraws
// at most 10 times a second and a frame spends a bounded time drawing.
import type { HostMessage, RunSummary } from '@slayer/messages/webviewMessages';
import { applyThemeDefaults, baseLineOptions, Chart, composePng, recolorChart } from './shared/charts';
import { csvRow } from '@slayer/shared/csv';
import { axisNumber } from '@slayer/shared/format';
import { MinMaxDecimator, type XY } from '@slayer/shared/decimate';
import { byId, clear, h } from './shared/dom';
import { Ema } from '@slayer/shared/ema';
import { METRIC_KEYS, MetricSeries, type MetricColumns, type MetricKey, type XKey } from '@slayer/shared/series';
import { onThemeChange, readTheme, withAlpha, type Theme } from './shared/theme';
import { connect, loadState, post, saveState } from './shared/vscodeApi';
import { attachZoomPan, type XRange } from './shared/zoomPan';

interface CurvesState {
  selected: string[];
  smoothing: number;
  logY: boolean;
  xAxis: XKey;
}

const state = loadState<CurvesState>({ selected: [], smoothing: 0.6, logY: false, xAxis: 'step' });
if (!['step', 'tokens', 'time'].includes(state.xAxis)) state.xAxis = 'step';
let theme: Theme = readTheme();
applyThemeDefaults(theme);

const PANELS: { key: MetricKey; title: string }[] = [
  { key: 'loss', title: 'Loss' },
  { key: 'lr', title: 'Learning rate' },
  { key: 'gradNorm', title: 'Gradient norm' },
  { key: 'tokensPerS', title: 'Throughput (tokens/s)' },
];
const X_TITLES: Record<XKey, string> = { step: 'step', tokens: 'tokens', time: 'wall time' };

type TraceKind = 'raw' | 'smooth' | 'eval';
interface Dataset { label: string; data: XY[]; borderColor: string; backgroundColor: string; hidden: boolean; borderWidth: number; order: number; pointRadius: number; borderDash: number[]; showLine: boolean }

/** A dataset on a chart and the decimator that feeds it. */
interface Trace {
  chart: MetricKey;
  kind: TraceKind;
  dataset: Dataset;
  decimator: MinMaxDecimator;
}

interface SeriesView {
  key: string;
  series: MetricSeries;
  runIndex: number;
  ema: Record<MetricKey, Ema>;
  traces: Trace[];
  /** Eval-loss points (sparse, never decimated) and the source index of each. */
  evalPoints: XY[];
  evalIndex: number[];
  /** Hidden from the legend by a click; applies to its raw, smoothed and eval curves. */
  userHidden: boolean;
}

let runs: RunSummary[] = [];
const seriesByKey = new Map<string, SeriesView>();
const charts = new Map<MetricKey, Chart<'line', XY[]>>();
let frameRequested = false;
/** Off only in the benchmark's baseline: same data work, no chart updates. */
let drawing = true;
/** The x range all charts show; null = everything. */
let zoom: XRange | null = null;

// --------------------------------------------------------------------------------------------
// Axis labels

const SI: [number, string][] = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];

/** 32768 → "32.8K", 1.2e9 → "1.2B": token counts fit a narrow axis. */
function compact(n: number): string {
  const a = Math.abs(n);
  for (const [f, s] of SI) if (a >= f) return `${Number((n / f).toPrecision(3))}${s}`;
  return String(Number(n.toPrecision(4)));
}

/** Seconds as 45s, 12m, 1h05. */
function duration(s: number): string {
  if (!Number.isFinite(s)) return '';
  const sign = s < 0 ? '−' : '';
  const a = Math.abs(s);
  if (a < 60) return `${sign}${Math.round(a)}s`;
  if (a < 3600) return `${sign}${Number((a / 60).toPrecision(3))}m`;
  const hrs = Math.floor(a / 3600);
  return `${sign}${hrs}h${String(Math.round((a - hrs * 3600) / 60)).padStart(2, '0')}`;
}

function formatX(v: number): string {
  return state.xAxis === 'time' ? duration(v) : compact(v);
}

const isOneTwoFive = (v: number): boolean => {
  const a = Math.abs(v);
  if (a === 0) return false;
  const m = Math.round((a / 10 ** Math.floor(Math.log10(a))) * 1e6) / 1e6;
  return m === 1 || m === 2 || m === 5;
};

/**
 * y tick labels. On a log axis over a decade or more only 1, 2 and 5 of each decade are labelled
 * (labels never crowd); over less than that, every few ticks.
 */
function formatY(v: number, index: number, ticks: readonly { value: number }[]): string {
  if (state.logY) {
    const marked = ticks.filter((t) => isOneTwoFive(t.value)).length;
    if (marked >= 2 ? !isOneTwoFive(v) : index % Math.max(1, Math.ceil(ticks.length / 5)) !== 0) return '';
  }
  return axisNumber(v);
}

// --------------------------------------------------------------------------------------------
// Layout

const app = byId('app');
const runList = h('div', { class: 'runs', id: 'runs' });
const smoothing = h('input', { type: 'range', id: 'smoothing', min: 0, max: 0.99, step: 0.01, value: state.smoothing, 'aria-label': 'Smoothing of every curve (EMA weight)' });
const smoothingValue = h('span', { id: 'smoothing-value' }, state.smoothing.toFixed(2));
const logY = h('input', { type: 'checkbox', id: 'log-y' });
logY.checked = state.logY;
const xAxis = h('select', { id: 'x-axis', 'aria-label': 'X axis' },
  h('option', { value: 'step' }, 'step'), h('option', { value: 'tokens' }, 'tokens'), h('option', { value: 'time' }, 'wall time'));
xAxis.value = state.xAxis;
const resetZoom = h('button', { id: 'reset-zoom', class: 'secondary', title: 'Show all data (or double-click a chart)', onclick: () => setZoom(null) }, 'Reset zoom');
resetZoom.hidden = true;
const styleKey = h('div', { class: 'note style-key', id: 'style-key' });
const empty = h('p', { class: 'note', id: 'empty' }, 'No run selected. Start one with “SLayer: Run Expansion”; its curves appear here as it trains.');
app.append(
  h('header', { class: 'toolbar' },
    h('label', {}, 'Smoothing ', smoothing, ' ', smoothingValue),
    h('label', {}, logY, ' log y'),
    h('label', {}, 'x: ', xAxis),
    resetZoom,
    h('button', { id: 'export-csv', onclick: exportCsv }, 'Export CSV'),
    h('button', { id: 'export-png', onclick: exportPng }, 'Export PNG'),
  ),
  runList,
  styleKey,
  empty,
);
const grid = h('div', { class: 'grid' });
app.append(grid);
for (const p of PANELS) {
  const canvas = h('canvas', { id: `chart-${p.key}`, role: 'img', 'aria-label': p.title });
  grid.append(h('section', { class: 'chart' }, canvas));
  const options = baseLineOptions(theme, p.title, X_TITLES[state.xAxis]);
  options.plugins!.title = { display: true, text: p.title, color: theme.foreground, font: { weight: 'bold' }, padding: { top: 2, bottom: 2 } };
  // The chart title names the metric; the y axis keeps its width for the plot.
  (options.scales!.y as { title: { display: boolean } }).title.display = false;
  options.scales!.x!.ticks!.callback = (v: string | number) => formatX(Number(v));
  options.scales!.y!.ticks!.callback = (v: string | number, i: number, ticks: { value: number }[]) => formatY(Number(v), i, ticks);
  options.plugins!.legend!.labels!.generateLabels = () => legendItems(p.key);
  options.plugins!.legend!.onClick = (_e: unknown, item: { text: string; datasetIndex?: number }) => toggleSeries(p.key, item.datasetIndex ?? -1);
  if (state.logY) options.scales!.y!.type = 'logarithmic';
  const chart = new Chart<'line', XY[]>(canvas, { type: 'line', data: { datasets: [] }, options });
  charts.set(p.key, chart);
  attachZoomPan(chart, setZoom);
}

smoothing.addEventListener('input', () => {
  state.smoothing = Number(smoothing.value);
  smoothingValue.textContent = state.smoothing.toFixed(2);
  saveState(state);
  for (const v of seriesByKey.values()) {
    for (const k of METRIC_KEYS) v.ema[k].setSmoothing(state.smoothing, v.series.y(k), v.series.length);
    for (const t of v.traces) if (t.kind === 'smooth') t.decimator = rebuildTrace(v, t);
    styleTraces(v);
  }
  applyZoom();
});
logY.addEventListener('change', () => {
  state.logY = logY.checked;
  saveState(state);
  for (const c of charts.values()) c.options.scales!.y!.type = state.logY ? 'logarithmic' : 'linear';
  redrawAll();
});
xAxis.addEventListener('change', () => {
  state.xAxis = xAxis.value === 'tokens' || xAxis.value === 'time' ? xAxis.value : 'step';
  saveState(state);
  for (const c of charts.values()) (c.options.scales!.x as { title: { text: string } }).title.text = X_TITLES[state.xAxis];
  for (const v of seriesByKey.values()) {
    for (const t of v.traces) if (t.kind !== 'eval') t.decimator = rebuildTrace(v, t);
    rebuildEval(v);
  }
  zoom = null;
  applyZoom();
});

onThemeChange((t) => {
  theme = t;
  applyThemeDefaults(t);
  for (const v of seriesByKey.values()) styleTraces(v);
  for (const c of charts.values()) {
    recolorChart(c, t);
    const title = c.options.plugins?.title;
    if (title) title.color = t.foreground;
  }
  redrawAll();
});

// --------------------------------------------------------------------------------------------
// Data

function seriesKey(runId: string, stage: string): string {
  return `${runId}\u241f${stage}`;
}

function runOf(runId: string): RunSummary | undefined {
  return runs.find((r) => r.id === runId);
}

/** The run's name when the host gave one, else its label. */
function runName(runId: string): string {
  const r = runOf(runId);
  return r?.name || r?.label || runId;
}

/** Legend text of a series: the run's name, and the stage when the run has more than one. */
function seriesLabel(v: SeriesView): string {
  const stages = [...seriesByKey.values()].filter((o) => o.series.runId === v.series.runId).length;
  const name = runName(v.series.runId);
  return stages > 1 ? `${name} · ${v.series.stage}` : name;
}

function colorOf(v: SeriesView): string {
  const given = runOf(v.series.runId)?.color;
  if (given && /^#[0-9a-f]{6}$/i.test(given)) return given;
  return theme.palette[v.runIndex % theme.palette.length]!;
}

/** Raw curves faint and thin under the smoothed one; with smoothing off the raw curve is the curve. */
function styleTraces(v: SeriesView): void {
  const smoothed = state.smoothing > 0;
  const color = colorOf(v);
  const label = seriesLabel(v);
  for (const t of v.traces) {
    const d = t.dataset;
    d.backgroundColor = color;
    if (t.kind === 'smooth') {
      d.label = `${label} (smoothed)`;
      d.borderColor = color;
      d.hidden = v.userHidden || !smoothed;
    } else if (t.kind === 'raw') {
      d.label = `${label} (raw)`;
      d.borderColor = smoothed ? withAlpha(color, 0.3) : color;
      d.hidden = v.userHidden;
    } else {
      d.label = `${label} (eval)`;
      d.borderColor = color;
      d.hidden = v.userHidden;
    }
  }
}

/** One legend entry per series: drawn like its main curve (smoothed when smoothing is on). */
function legendItems(chart: MetricKey): { text: string; fillStyle: string; strokeStyle: string; lineWidth: number; hidden: boolean; datasetIndex: number; fontColor: string }[] {
  const datasets = charts.get(chart)?.data.datasets ?? [];
  const out = [];
  for (const v of seriesByKey.values()) {
    const main = v.traces.find((t) => t.chart === chart && t.kind === (state.smoothing > 0 ? 'smooth' : 'raw'));
    if (!main) continue;
    const color = colorOf(v);
    out.push({ text: ellipsis(seriesLabel(v), 32), fillStyle: color, strokeStyle: color, lineWidth: 1, hidden: v.userHidden, datasetIndex: datasets.indexOf(main.dataset as (typeof datasets)[number]), fontColor: theme.foreground });
  }
  return out;
}

const ellipsis = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function toggleSeries(chart: MetricKey, datasetIndex: number): void {
  const ds = charts.get(chart)?.data.datasets[datasetIndex];
  for (const v of seriesByKey.values()) {
    if (!v.traces.some((t) => t.dataset === ds)) continue;
    v.userHidden = !v.userHidden;
    styleTraces(v);
  }
  redrawAll();
}

function yOf(v: SeriesView, t: Trace): ArrayLike<number> {
  return t.kind === 'smooth' ? v.ema[t.chart].values : v.series.y(t.chart);
}

/** A fresh decimator for a trace (x axis or smoothing changed): the dataset gets its new array. */
function rebuildTrace(v: SeriesView, t: Trace): MinMaxDecimator {
  const d = new MinMaxDecimator();
  d.sync(v.series.x(state.xAxis), yOf(v, t), v.series.length, 0);
  t.dataset.data = d.out;
  return d;
}

/** Brings the eval points up to the series from source index `from` on. */
function syncEval(v: SeriesView, from: number): void {
  let keep = v.evalIndex.length;
  while (keep > 0 && v.evalIndex[keep - 1]! >= from) keep--;
  v.evalIndex.length = keep;
  v.evalPoints.length = keep;
  const x = v.series.x(state.xAxis);
  const y = v.series.evalLoss.data;
  for (let i = from; i < v.series.length; i++) {
    if (!Number.isFinite(y[i]!)) continue;
    v.evalIndex.push(i);
    v.evalPoints.push({ x: x[i]!, y: y[i]! });
  }
  if (v.evalPoints.length && !v.traces.some((t) => t.kind === 'eval')) addTrace(v, 'loss', 'eval');
}

function rebuildEval(v: SeriesView): void {
  v.evalIndex.length = 0;
  v.evalPoints.length = 0;
  syncEval(v, 0);
}

function addTrace(v: SeriesView, chart: MetricKey, kind: TraceKind): void {
  const decimator = new MinMaxDecimator();
  const dataset: Dataset = {
    label: '', data: kind === 'eval' ? v.evalPoints : decimator.out, borderColor: '', backgroundColor: '', hidden: false,
    borderWidth: kind === 'smooth' ? 2 : 1, order: kind === 'raw' ? 2 : kind === 'smooth' ? 1 : 0,
    pointRadius: kind === 'eval' ? 3 : 0, borderDash: kind === 'eval' ? [4, 3] : [], showLine: true,
  };
  v.traces.push({ chart, kind, dataset, decimator });
  charts.get(chart)!.data.datasets.push(dataset);
  styleTraces(v);
  updateStyleKey();
}

function ensureSeries(runId: string, stage: string): SeriesView {
  const key = seriesKey(runId, stage);
  let v = seriesByKey.get(key);
  if (v) return v;
  const runIndex = Math.max(0, state.selected.indexOf(runId));
  const ema = Object.fromEntries(METRIC_KEYS.map((k) => [k, new Ema(state.smoothing)])) as Record<MetricKey, Ema>;
  v = { key, series: new MetricSeries(runId, stage), runIndex, ema, traces: [], evalPoints: [], evalIndex: [], userHidden: false };
  seriesByKey.set(key, v);
  for (const p of PANELS) {
    addTrace(v, p.key, 'raw');
    addTrace(v, p.key, 'smooth');
  }
  // A second stage of a run changes how the first one is labelled.
  for (const o of seriesByKey.values()) if (o.series.runId === runId) styleTraces(o);
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
  updateStyleKey();
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

/** Brings every changed series' EMAs and decimated tails up to date, then redraws what is due. */
function flush(): void {
  const t0 = performance.now();
  frameRequested = false;
  for (const v of seriesByKey.values()) {
    const from = v.series.takeChangedFrom();
    if (from === Infinity) continue;
    const n = v.series.length;
    for (const k of METRIC_KEYS) v.ema[k].sync(v.series.y(k), n, from);
    const x = v.series.x(state.xAxis);
    for (const t of v.traces) {
      if (t.kind !== 'eval') t.decimator.sync(x, yOf(v, t), n, from);
      dirty.add(t.chart);
    }
    syncEval(v, from);
    // Zoomed in, a trace shows its own finer decimation of the window; new points re-cut it.
    if (zoom) for (const t of v.traces) if (t.kind !== 'eval') t.dataset.data = zoomedData(v, t, zoom);
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

function updateStyleKey(): void {
  const hasEval = [...seriesByKey.values()].some((v) => v.traces.some((t) => t.kind === 'eval'));
  styleKey.textContent = seriesByKey.size === 0 ? '' : `Thick: smoothed (EMA) · faint: raw${hasEval ? ' · dashed with dots: eval loss' : ''} · wheel: zoom · drag: pan · double-click: reset`;
}

// --------------------------------------------------------------------------------------------
// Zoom and pan (x only; every chart shows the same range)

/** First index of ascending `x[0..n)` with x ≥ v. */
function lowerBound(x: ArrayLike<number>, n: number, v: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The points inside `r` (plus one either side, so lines reach the edges), decimated afresh. */
function zoomedData(v: SeriesView, t: Trace, r: XRange): XY[] {
  const x = v.series.x(state.xAxis);
  const n = v.series.length;
  const from = Math.max(0, lowerBound(x, n, r.min) - 1);
  const to = Math.min(n, lowerBound(x, n, r.max) + 1);
  const d = new MinMaxDecimator();
  d.sync(x.subarray(from, to), (yOf(v, t) as Float32Array).subarray(from, to), to - from, 0);
  return d.out;
}

function setZoom(r: XRange | null): void {
  zoom = r && Number.isFinite(r.min) && Number.isFinite(r.max) && r.max > r.min ? r : null;
  applyZoom();
}

function applyZoom(): void {
  for (const c of charts.values()) {
    const x = c.options.scales!.x!;
    x.min = zoom ? zoom.min : undefined;
    x.max = zoom ? zoom.max : undefined;
  }
  for (const v of seriesByKey.values()) {
    for (const t of v.traces) if (t.kind !== 'eval') t.dataset.data = zoom ? zoomedData(v, t, zoom) : t.decimator.out;
  }
  resetZoom.hidden = zoom === null;
  redrawAll();
}

// --------------------------------------------------------------------------------------------
// Runs

function renderRuns(): void {
  clear(runList);
  if (runs.length === 0) {
    runList.append(h('span', { class: 'note' }, 'No runs yet.'));
    return;
  }
  for (const [i, r] of runs.entries()) {
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
    const swatch = h('canvas', { class: 'run-swatch', width: 10, height: 10, 'aria-hidden': 'true' });
    const sel = state.selected.indexOf(r.id);
    const color = r.color && /^#[0-9a-f]{6}$/i.test(r.color) ? r.color : theme.palette[(sel >= 0 ? sel : i) % theme.palette.length]!;
    const ctx = swatch.getContext('2d');
    if (ctx) {
      ctx.fillStyle = color;
      ctx.fillRect(0, 0, 10, 10);
    }
    runList.append(h('label', { class: 'run', title: `${r.name ? `${r.name}: ` : ''}${r.label} — ${r.id} on ${r.host}` }, box, ' ', swatch, ` ${r.name || r.label} `, h('span', { class: `state state-${r.state}` }, r.state)));
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
  for (const v of seriesByKey.values()) styleTraces(v); // names and colours may have changed
  renderRuns();
  redrawAll();
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
  const lines = [csvRow(['run', 'stage', 'step', 'tokens', 'loss', 'loss_smoothed', 'lr', 'grad_norm', 'tokens_per_s', 'time_s', 'eval_loss'])];
  for (const v of seriesByKey.values()) {
    const s = v.series;
    v.ema.loss.sync(s.y('loss'), s.length, s.length);
    for (let i = 0; i < s.length; i++) {
      const t = s.time.data[i]!;
      const e = s.evalLoss.data[i]!;
      lines.push(csvRow([s.runId, s.stage, s.step.data[i]!, s.tokens.data[i]!, s.y('loss')[i]!, v.ema.loss.values[i]!, s.y('lr')[i]!, s.y('gradNorm')[i]!, s.y('tokensPerS')[i]!, Number.isFinite(t) ? t : '', Number.isFinite(e) ? e : '']));
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
  zoom: () => zoom,
  setZoom,
  pendingRedraws: () => dirty.size,
  stats,
  series: () => [...seriesByKey.values()].map((v) => ({ runId: v.series.runId, stage: v.series.stage, length: v.series.length, bucketSize: v.traces[0]?.decimator.bucketSize ?? 1, bytes: v.series.bytes() + Object.values(v.ema).reduce((a, e) => a + e.bytes(), 0) })),
};

connect('curves', receive);
