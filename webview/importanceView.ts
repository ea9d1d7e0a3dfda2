// Layer importance, after the paper's Figure 2: (a) angular distance per block (all tokens and the
// last token), (b) the drop when a block is removed, (c) the drop when a block is inserted after
// it (copy vs average init). The open plan is drawn over every chart: new blocks between their
// neighbours, deleted blocks, trainable blocks. Clicking between two blocks offers to add a new
// block there; the host edits the plan, and the overlay follows.
import type { ImportanceFile } from '@slayer/protocol/runnerEvents';
import type { PlanOverlay } from '@slayer/core';
import type { HostMessage, SuggestionPreview, WeightSimilarity } from '@slayer/messages/webviewMessages';
import { applyThemeDefaults, Chart, composePng, recolorChart, type ChartConfiguration, type Plugin } from './shared/charts';
import { byId, clear, h } from './shared/dom';
import { onThemeChange, readTheme, withAlpha, type Theme } from './shared/theme';
import { connect, loadState, post, saveState } from './shared/vscodeApi';
import { renderSuggestionPanel, suggestionPlugin, type SuggestionOptions } from './suggestionPreview';

interface ImportanceState {
  showLast: boolean;
}
const state = loadState<ImportanceState>({ showLast: true });
let theme: Theme = readTheme();
applyThemeDefaults(theme);

let importance: ImportanceFile | null = null;
let overlay: PlanOverlay | null = null;
let similarity: WeightSimilarity | null = null;
/** A suggested expansion being previewed (SLayer: Suggest Expansion…), drawn dashed over the plan. */
let suggestion: SuggestionPreview | null = null;
/** From the host: the measurement is of the plan's model (only then is the plan drawn over it). */
let onPlanModel = false;
let canComputeSimilarity = false;
let picked = false;
type ChartKey = 'plan' | 'angular' | 'removal' | 'insertion' | 'similarity';
const charts = new Map<ChartKey, Chart>();
const sections = new Map<ChartKey, HTMLElement>();

/**
 * Base blocks on each chart's x axis: the measurement's, the similarity's (one more than its
 * pairs) and the plan's are each their own — a similarity or plan of another depth is never drawn
 * on a measurement's axis.
 */
function depthOf(key: ChartKey): number | null {
  if (key === 'similarity') return similarity ? similarity.blockCosine.length + 1 : null;
  if (key === 'plan') return overlay ? overlay.baseLayers : null;
  return importance ? importance.num_layers : null;
}

// --------------------------------------------------------------------------------------------
// The plan overlay, drawn by a chart.js plugin under the data (bands) and over it (insertions).

interface OverlayOptions {
  blocks: PlanOverlay['blocks'] | null;
}

function blockGeometry(chart: Chart): { center: (i: number) => number; half: number } {
  const x = chart.scales.x!;
  const p0 = x.getPixelForValue(0);
  const p1 = x.getPixelForValue(1);
  return { center: (i) => x.getPixelForValue(i), half: (p1 - p0) / 2 };
}

const overlayPlugin: Plugin = {
  id: 'slayerOverlay',
  beforeDatasetsDraw(chart, _args, opts: OverlayOptions) {
    if (!opts.blocks) return;
    const { ctx, chartArea: a } = chart;
    const { center, half } = blockGeometry(chart);
    ctx.save();
    for (const b of opts.blocks) {
      if (b.status === 'deleted') ctx.fillStyle = withAlpha(theme.deleted, 0.28);
      else if (b.trainable) ctx.fillStyle = withAlpha(theme.trainable, 0.3);
      else continue;
      ctx.fillRect(center(b.base) - half, a.top, 2 * half, a.bottom - a.top);
    }
    ctx.restore();
  },
  afterDatasetsDraw(chart, _args, opts: OverlayOptions) {
    if (!opts.blocks) return;
    const { ctx, chartArea: a } = chart;
    const { center, half } = blockGeometry(chart);
    ctx.save();
    ctx.strokeStyle = theme.added;
    ctx.fillStyle = theme.added;
    ctx.lineWidth = 2;
    ctx.font = `11px ${theme.font}`;
    ctx.textAlign = 'center';
    for (const b of opts.blocks) {
      if (b.newAfter === 0) continue;
      const x = center(b.base) + half;
      ctx.beginPath();
      ctx.moveTo(x, a.top + 12);
      ctx.lineTo(x, a.bottom);
      ctx.stroke();
      ctx.fillText(`+${b.newAfter}`, x, a.top + 10);
    }
    ctx.restore();
  },
};

// --------------------------------------------------------------------------------------------
// Layout

const app = byId('app');
const caption = h('p', { class: 'note', id: 'caption' });
const legend = h('div', { class: 'legend', id: 'legend' });
const notes = h('div', { id: 'notes' });
const notice = h('p', { id: 'notice', role: 'status' });
const offer = h('div', { class: 'offer', id: 'offer' });
offer.hidden = true;
const suggestionPanel = h('section', { class: 'suggestion', id: 'suggestion' });
suggestionPanel.hidden = true;
const noData = h('div', { id: 'no-data' },
  h('p', {}, 'No measured layer importance yet. A run measures it on calibration text (angular distance per block, and the drop when a block is removed or inserted) and writes out/importance.json.'),
  h('p', {},
    h('button', { id: 'start-run', onclick: () => post({ type: 'startRun' }) }, 'Start a run'), ' ',
    h('button', { id: 'open-file', class: 'secondary', onclick: () => post({ type: 'openImportanceFile' }) }, 'Open importance.json…'), ' ',
    h('button', { id: 'compute-similarity', class: 'secondary', onclick: () => post({ type: 'computeSimilarity' }) }, 'Weight similarity from the checkpoint (no GPU)')),
);
const clearPicked = h('button', { id: 'clear-file', class: 'secondary', title: 'Forget the picked file and show the newest run\'s measurement', onclick: () => post({ type: 'clearImportanceFile' }) }, 'Clear picked file');
const showLast = h('input', { type: 'checkbox', id: 'show-last' });
showLast.checked = state.showLast;
const toolbar = h('header', { class: 'toolbar' },
  h('label', {}, showLast, ' last-token angular distance'),
  h('button', { id: 'export-png', onclick: exportPng }, 'Export PNG'),
  h('button', { id: 'open-other', class: 'secondary', onclick: () => post({ type: 'openImportanceFile' }) }, 'Open importance.json…'),
  clearPicked,
  h('button', { id: 'compute-similarity-2', class: 'secondary', onclick: () => post({ type: 'computeSimilarity' }) }, 'Weight similarity'),
  h('button', { id: 'suggest', class: 'secondary', title: 'Suggest where new blocks go and which to delete, from this measurement', onclick: () => post({ type: 'suggestExpansion' }) }, 'Suggest expansion…'),
);
const grid = h('div', { class: 'grid', id: 'charts' });
app.append(toolbar, caption, legend, notes, offer, suggestionPanel, notice, noData, grid);

function makeChart(key: ChartKey, title: string, type: 'line' | 'bar', yTitle: string): void {
  const yTicks = key === 'plan' ? { display: false } : { color: theme.foreground };
  const canvas = h('canvas', { id: `chart-${key}`, role: 'img', 'aria-label': title });
  const section = h('section', { class: 'chart tall', id: `section-${key}` }, canvas);
  sections.set(key, section);
  grid.append(section);
  const config: ChartConfiguration = {
    type,
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        title: { display: true, text: title, color: theme.foreground },
        legend: { labels: { color: theme.foreground, boxWidth: 12 } },
        slayerOverlay: { blocks: null },
      } as Record<string, unknown>,
      scales: {
        x: { type: 'category', title: { display: true, text: 'base block (0-based)', color: theme.foreground }, ticks: { color: theme.foreground, autoSkip: true, maxRotation: 0 }, grid: { color: theme.grid } },
        y: { type: 'linear', title: { display: yTitle !== '', text: yTitle, color: theme.foreground }, ticks: yTicks, grid: { color: theme.grid } },
      },
      onClick: (e, _els, chart) => {
        if (e.x !== null && e.x !== undefined) offerInsertAt(chart as Chart, e.x);
      },
    },
    plugins: [overlayPlugin, suggestionPlugin(() => theme)],
  };
  charts.set(key, new Chart(canvas, config));
}
makeChart('plan', 'The plan on its model\'s blocks (nothing measured yet)', 'bar', '');
makeChart('angular', '(a) Angular distance between the input and output of each block', 'line', 'angular distance');
makeChart('removal', '(b) Drop when the block is removed', 'bar', 'log-likelihood drop');
makeChart('insertion', '(c) Drop when a block is inserted after it', 'bar', 'log-likelihood drop');
makeChart('similarity', 'Weight-space cosine similarity of block i and block i + 1 (from the checkpoint, no GPU)', 'line', 'cosine similarity');

showLast.addEventListener('change', () => {
  state.showLast = showLast.checked;
  saveState(state);
  render();
});

onThemeChange((t) => {
  theme = t;
  applyThemeDefaults(t);
  for (const c of charts.values()) recolorChart(c, t);
  render();
});

// --------------------------------------------------------------------------------------------

function offerInsertAt(chart: Chart, px: number): void {
  const L = chart.data.labels?.length ?? 0;
  if (L < 2) return;
  const { center, half } = blockGeometry(chart);
  const after = Math.max(0, Math.min(L - 2, Math.floor((px - center(0)) / (2 * half))));
  clear(offer);
  offer.hidden = false;
  if (!overlay) {
    offer.append(h('span', {}, 'Open a .slayer plan to add blocks to it.'));
    return;
  }
  offer.dataset.after = String(after);
  offer.append(
    h('span', { id: 'offer-text' }, `Add a new block between block ${after} and block ${after + 1} (${overlay.init} init)?`),
    h('button', { id: 'offer-add', onclick: () => { offer.hidden = true; post({ type: 'addBlock', afterBlock: after }); } }, 'Add to plan'),
    h('button', { id: 'offer-cancel', class: 'secondary', onclick: () => { offer.hidden = true; } }, 'Cancel'),
  );
}

function series(label: string, data: number[], color: string, kind: 'line' | 'bar'): Record<string, unknown> {
  return kind === 'line'
    ? { label, data, borderColor: color, backgroundColor: color, pointRadius: 2, borderWidth: 1.5, tension: 0 }
    : { label, data, backgroundColor: withAlpha(color, 0.85), borderColor: color, borderWidth: 0 };
}

function render(): void {
  const measured = importance !== null;
  const anything = measured || similarity !== null || overlay !== null;
  noData.hidden = measured;
  grid.hidden = !anything;
  toolbar.hidden = !anything;
  for (const key of ['angular', 'removal', 'insertion'] as const) sections.get(key)!.hidden = !measured;
  sections.get('similarity')!.hidden = similarity === null;
  // Before any data the plan's blocks are still drawn, on its own model's axis.
  sections.get('plan')!.hidden = measured || similarity !== null || overlay === null;
  for (const b of [byId('compute-similarity'), byId('compute-similarity-2')]) b.hidden = !canComputeSimilarity;
  clearPicked.hidden = !picked;
  showLast.parentElement!.hidden = !measured;
  clear(legend);
  clear(caption);
  if (!anything) return;
  const imp = importance;
  const [c0, c1] = [theme.palette[0]!, theme.palette[1]!];
  // Pair i (blocks i, i + 1) is drawn at block i; the last block has no successor.
  const pairSeries = (values: (number | null)[]): number[] => [...values, null] as unknown as number[];
  const sets: Record<ChartKey, Record<string, unknown>[]> = {
    plan: [],
    angular: imp ? [series('all tokens', imp.angular_all, c0, 'line'), ...(state.showLast ? [series('last token', imp.angular_last, c1, 'line')] : [])] : [],
    removal: imp?.removal_drop ? [series('removed', imp.removal_drop, c0, 'bar')] : [],
    insertion: [
      ...(imp?.insert_copy_drop ? [series('copy init', imp.insert_copy_drop, c0, 'bar')] : []),
      ...(imp?.insert_average_drop ? [series('average init', imp.insert_average_drop, c1, 'bar')] : []),
    ],
    similarity: similarity
      ? [series('whole block', pairSeries(similarity.blockCosine), c0, 'line'), series('mean over matrices', pairSeries(similarity.meanCosine), c1, 'line')]
      : [],
  };
  let drawn = false;
  for (const [key, chart] of charts) {
    const L = depthOf(key) ?? 0;
    chart.data.labels = Array.from({ length: L }, (_, i) => String(i));
    chart.data.datasets = sets[key] as unknown as typeof chart.data.datasets;
    // The similarity is of the plan's own checkpoint; a measurement only when the host says it is
    // of the plan's model (same depth is not enough).
    const mine = key === 'plan' || key === 'similarity' || onPlanModel;
    const show = overlay !== null && overlay.baseLayers === L && mine;
    if (show && !sections.get(key)!.hidden) drawn = true;
    (chart.options.plugins as Record<string, OverlayOptions>).slayerOverlay = { blocks: show ? overlay!.blocks : null };
    (chart.options.plugins as Record<string, SuggestionOptions>).slayerSuggestion = { blocks: suggestion && suggestion.overlay.baseLayers === L && mine ? suggestion.overlay.blocks : null };
    chart.update('none');
  }
  if (imp) caption.append(`${imp.model} · ${imp.num_layers} blocks · ${imp.calibration.tokens.toLocaleString('en-US')} calibration tokens (${imp.calibration.sequences} × ${imp.calibration.seq_len}) · baseline log-likelihood ${imp.baseline_loglik.toFixed(4)}`);
  if (similarity) caption.append(`${imp ? ' · ' : ''}weight similarity of ${similarity.source}`);
  if (overlay && drawn) {
    const o = overlay;
    const added = o.blocks.reduce((a, b) => a + b.newAfter, 0);
    const deleted = o.blocks.filter((b) => b.status === 'deleted').map((b) => b.base);
    const trainable = o.blocks.filter((b) => b.trainable).map((b) => b.base);
    legend.append(
      h('span', { class: 'plan' }, `plan ${o.expand}`),
      h('span', { id: 'legend-added' }, h('span', { class: 'swatch added' }), `${added} new block${added === 1 ? '' : 's'} (${o.init} init)`),
      h('span', { id: 'legend-deleted' }, h('span', { class: 'swatch deleted' }), `deleted: ${deleted.length ? deleted.join(', ') : 'none'}`),
      h('span', { id: 'legend-trainable' }, h('span', { class: 'swatch trainable' }), `trainable original blocks: ${trainable.length ? trainable.join(', ') : 'none'}`),
      h('span', { class: 'note' }, 'click between two blocks to add one there'),
    );
  }
}

function exportPng(): void {
  post({ type: 'export', format: 'png', fileName: 'layer-importance.png', dataUrl: composePng([...charts].filter(([k]) => !sections.get(k)!.hidden).map(([, c]) => c.canvas), theme.background) });
}

function receive(m: HostMessage): void {
  if (m.type === 'importance') {
    importance = m.importance;
    overlay = m.overlay;
    similarity = m.similarity;
    onPlanModel = m.measuredOnPlanModel;
    canComputeSimilarity = m.canComputeSimilarity;
    picked = m.picked;
    clear(notes);
    for (const n of m.notes) notes.append(h('p', { class: 'note' }, n));
    if (m.source) notes.append(h('p', { class: 'note', id: 'source' }, `measured: ${m.source}`));
    render();
  } else if (m.type === 'suggestion') {
    suggestion = m.preview;
    renderSuggestionPanel(suggestionPanel, suggestion);
    render();
  } else if (m.type === 'notice') {
    notice.className = m.level === 'error' ? 'error' : 'note';
    notice.textContent = m.message;
  }
}

(window as unknown as { slayerView: unknown }).slayerView = { charts, receive, overlay: () => overlay, suggestion: () => suggestion };

render();
connect('importance', receive);
