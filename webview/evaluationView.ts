// Evaluation: did the expansion inject knowledge without forgetting? The base model against one or
// more runs — grouped bars per task, domain and general side by side, a table with coloured deltas,
// a one-line verdict per run, a table with one row per run (a sweep's variants), and CSV /
// Markdown export of the same comparison `slayer compare` prints (webview/shared/evalCompare.ts).
import type { EvaluatedRun, HostMessage } from '@slayer/messages/webviewMessages';
import { applyThemeDefaults, Chart, recolorChart } from './shared/charts';
import { byId, clear, h } from './shared/dom';
import { compareRuns, renderComparison, signed, type Comparison, type CompareRow } from '@slayer/shared/evalCompare';
import { onThemeChange, readTheme, type Theme } from './shared/theme';
import { connect, loadState, post, saveState } from './shared/vscodeApi';

interface EvalState {
  selected: string[];
}

const state = loadState<EvalState>({ selected: [] });
let theme: Theme = readTheme();
applyThemeDefaults(theme);

let runs: EvaluatedRun[] = [];
let comparison: Comparison | null = null;
const charts = new Map<'domain' | 'general', Chart<'bar', (number | null)[]>>();

const app = byId('app');
const runList = h('div', { class: 'runs', id: 'runs' });
const verdicts = h('div', { id: 'verdicts' });
const empty = h('p', { class: 'note', id: 'empty' }, 'No evaluated run yet. Add an eval section to the plan (“eval” with “  domain gsm8k”, “  general arc_challenge”) and run it; scores appear here.');
const grid = h('div', { class: 'grid' });
const table = h('table', { class: 'scores', id: 'scores' });
// One row per run (a sweep's variants side by side, as the paper's Table 3 prints them).
const perRun = h('table', { class: 'scores', id: 'per-run' });
app.append(
  h('header', { class: 'toolbar' },
    h('button', { id: 'export-csv', onclick: () => exportAs('csv') }, 'Export CSV'),
    h('button', { id: 'export-md', onclick: () => exportAs('md') }, 'Export Markdown'),
  ),
  runList, verdicts, empty, grid, table, perRun,
);
for (const group of ['domain', 'general'] as const) {
  const canvas = h('canvas', { id: `chart-${group}` });
  grid.append(h('section', {}, h('h2', {}, group === 'domain' ? 'Domain (injection)' : 'General (forgetting)'), h('div', { class: 'chart' }, canvas)));
  charts.set(group, new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { display: true, labels: { color: theme.foreground, boxWidth: 12 } }, tooltip: { enabled: true } },
      scales: {
        x: { ticks: { color: theme.foreground }, grid: { color: theme.grid } },
        y: { beginAtZero: true, title: { display: true, text: 'score (%)', color: theme.foreground }, ticks: { color: theme.foreground }, grid: { color: theme.grid } },
      },
    },
  }));
}

const palette = (i: number): string => theme.palette[i % theme.palette.length] ?? theme.foreground;

function selectedRuns(): EvaluatedRun[] {
  return runs.filter((r) => state.selected.includes(r.id));
}

function render(): void {
  const chosen = selectedRuns();
  comparison = chosen.length ? compareRuns(chosen.map((r) => ({ run: r.label, scores: r.scores }))) : null;
  empty.hidden = runs.length > 0;
  clear(runList);
  for (const r of runs) {
    const box = h('input', { type: 'checkbox', 'data-run': r.id });
    box.checked = state.selected.includes(r.id);
    box.addEventListener('change', () => {
      state.selected = box.checked ? [...state.selected, r.id] : state.selected.filter((x) => x !== r.id);
      saveState(state);
      render();
    });
    runList.append(h('label', {}, box, ` ${r.label}`));
  }
  clear(verdicts);
  for (const v of comparison?.runs ?? []) verdicts.append(h('p', { class: 'verdict' }, h('strong', {}, v.run), ` (${v.model}): ${v.verdict}`));
  drawCharts();
  drawTable();
  drawPerRun();
}

function drawCharts(): void {
  for (const [group, chart] of charts) {
    const rows = (comparison?.rows ?? []).filter((r) => r.group === group && r.source === 'harness');
    chart.data.labels = rows.map((r) => r.task);
    chart.data.datasets = comparison ? [
      { label: 'base', data: rows.map((r) => r.base), backgroundColor: theme.muted },
      ...comparison.runs.map((run, i) => ({ label: run.run, data: rows.map((r) => r.cells[i]!.value), backgroundColor: palette(i) })),
    ] : [];
    chart.update('none');
  }
}

function cell(text: string, cls = ''): HTMLTableCellElement {
  return h('td', cls ? { class: cls } : {}, text);
}

function drawTable(): void {
  clear(table);
  if (!comparison) return;
  const c = comparison;
  table.append(h('tr', {}, ...['group', 'task', 'metric', 'base'].map((t, i) => h('th', i >= 3 ? { class: 'num' } : {}, t)),
    ...c.runs.flatMap((r) => [h('th', { class: 'num' }, r.run), h('th', { class: 'num' }, 'Δ')])));
  const digits = (r: CompareRow): number => (r.source === 'perplexity' ? 3 : 2);
  for (const r of c.rows) {
    table.append(h('tr', { 'data-task': r.task },
      cell(r.group), cell(r.task), cell(r.metric), cell(r.base === null ? '' : r.base.toFixed(digits(r)), 'num'),
      ...r.cells.flatMap((x) => [
        cell(x.value === null ? '' : x.value.toFixed(digits(r)), 'num'),
        cell(x.delta === null ? '' : signed(x.delta, digits(r)), `num delta${x.better === null ? '' : x.better ? ' better' : ' worse'}`),
      ])));
  }
}

function drawPerRun(): void {
  clear(perRun);
  if (!comparison || comparison.runs.length < 2) return;
  const c = comparison;
  const digits = (r: CompareRow): number => (r.source === 'perplexity' ? 3 : 2);
  perRun.append(h('tr', {}, h('th', {}, 'run'), ...c.rows.map((r) => h('th', { class: 'num' }, r.task)), h('th', {}, 'verdict')));
  if (c.rows.some((r) => r.base !== null)) {
    perRun.append(h('tr', { 'data-run': 'base' }, cell('base'), ...c.rows.map((r) => cell(r.base === null ? '' : r.base.toFixed(digits(r)), 'num')), cell('')));
  }
  c.runs.forEach((run, i) => {
    perRun.append(h('tr', { 'data-run': run.run }, cell(run.run),
      ...c.rows.map((r) => {
        const x = r.cells[i]!;
        return cell(x.value === null ? '' : x.value.toFixed(digits(r)), `num${x.better === null ? '' : x.better ? ' better' : ' worse'}`);
      }),
      cell(run.verdict)));
  });
}

function exportAs(format: 'csv' | 'md'): void {
  if (!comparison) return;
  const content = renderComparison(comparison, format);
  post(format === 'csv' ? { type: 'export', format, fileName: 'evaluation.csv', content } : { type: 'export', format, fileName: 'evaluation.md', content });
}

function onMessage(m: HostMessage): void {
  if (m.type !== 'evaluation') return;
  runs = m.runs;
  const ids = new Set(runs.map((r) => r.id));
  if (m.focus.length) state.selected = m.focus.filter((id) => ids.has(id));
  else state.selected = state.selected.filter((id) => ids.has(id));
  if (!state.selected.length && runs.length) state.selected = [runs[runs.length - 1]!.id];
  saveState(state);
  render();
}

onThemeChange(() => {
  theme = readTheme();
  applyThemeDefaults(theme);
  for (const chart of charts.values()) recolorChart(chart as unknown as Chart, theme);
  render();
});

(window as unknown as { slayerView: unknown }).slayerView = { charts, get comparison() { return comparison; } };
connect('evaluation', onMessage);
