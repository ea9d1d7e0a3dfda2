// A run's results as files: training curves and layer importance as SVG, one self-contained HTML
// page holding both with a summary, and a few lines for the terminal. Reads what the runner wrote
// into a run directory (events.jsonl, layermap.json, out/importance.json); validates each record
// at the boundary and reports, rather than hides, lines it cannot read.
import { join } from 'node:path';
import { layerMapOverlay } from '../core';
import { RUN_FILES, RUN_OUT_FILES } from '../protocol/contracts';
import { MAX_EVENTS_BYTES, MAX_RUN_JSON_BYTES } from '../core/limits';
import { FileRefusedError, readRegularFileSync } from '../modelfiles/regularFile';
import { validateLayerMap, type LayerMap } from '../protocol/layerMap';
import { parseEventLine, validateImportanceFile, type ImportanceFile, type MetricEvent, type RunnerEvent } from '../protocol/runnerEvents';
import { ema } from '../shared/ema';
import { resumeSlot } from '../shared/series';
import { compareRuns, evalScores, renderComparison } from '../shared/evalCompare';
import { barChartSvg, escapeXml, lineChartSvg, type BarGroup } from './svgChart';

export interface RunData {
  events: RunnerEvent[];
  /** 1-based line numbers of events.jsonl that did not parse, with the reason. */
  badLines: { line: number; reason: string }[];
  layerMap: LayerMap | null;
  importance: ImportanceFile | null;
}

export interface RunReport {
  files: Record<string, string>;
  summary: string[];
}

/** A run file's text, or undefined when missing; a FIFO, a directory or an oversize file is refused with a message. */
function readRunFile(path: string, maxBytes: number): string | undefined {
  try {
    return readRegularFileSync(path, maxBytes);
  } catch (e) {
    if (e instanceof FileRefusedError) throw new Error(`${path} ${e.message}`);
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

function readRunJson<T>(path: string, validate: (raw: unknown) => T): T | null {
  const text = readRunFile(path, MAX_RUN_JSON_BYTES);
  if (text === undefined) return null;
  try {
    return validate(JSON.parse(text));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

export function readRunDir(dir: string): RunData {
  const eventsPath = join(dir, RUN_FILES.events);
  const eventsText = readRunFile(eventsPath, MAX_EVENTS_BYTES);
  if (eventsText === undefined) throw new Error(`${dir}: no events.jsonl (is this a run directory?)`);
  const events: RunnerEvent[] = [];
  const badLines: RunData['badLines'] = [];
  eventsText.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    try {
      events.push(parseEventLine(text));
    } catch (e) {
      badLines.push({ line: i + 1, reason: (e as Error).message });
    }
  });
  const layerMap = readRunJson(join(dir, RUN_FILES.layerMap), validateLayerMap);
  const importance = readRunJson(join(dir, RUN_FILES.out, RUN_OUT_FILES.importance), validateImportanceFile);
  return { events, badLines, layerMap, importance };
}

/** Metric events per stage, in step order; a step repeated after a resume replaces it and all after it, as in the curves view. */
export function metricsByStage(events: readonly RunnerEvent[]): Map<string, MetricEvent[]> {
  const byStage = new Map<string, MetricEvent[]>();
  for (const e of events) {
    if (e.kind !== 'metric') continue;
    let ms = byStage.get(e.stage);
    if (!ms) byStage.set(e.stage, (ms = []));
    ms.length = resumeSlot(ms.length, e.step, (i) => ms[i]!.step);
    ms.push(e);
  }
  return byStage;
}

// The same bias-corrected EMA as the curves view draws, so the report's smoothed curve matches it.
export { ema };

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line sparkline of a series (resampled to `width` characters). */
export function sparkline(values: readonly number[], width = 48): string {
  if (values.length === 0) return '';
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out: string[] = [];
  const n = Math.min(width, values.length);
  for (let i = 0; i < n; i++) {
    const v = values[Math.floor((i * values.length) / n)]!;
    out.push(BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]!);
  }
  return out.join('');
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function importanceGroups(imp: ImportanceFile, layerMap: LayerMap | null): BarGroup[] {
  const overlay = layerMap && layerMap.base.numLayers === imp.num_layers ? layerMapOverlay(layerMap).blocks : null;
  return Array.from({ length: imp.num_layers }, (_, i) => {
    const o = overlay?.[i];
    return {
      label: String(i),
      values: [imp.angular_all[i] ?? null, imp.angular_last[i] ?? null, imp.removal_drop?.[i] ?? null],
      mark: o?.status === 'deleted' || o?.status === 'final' ? o.status : null,
      insertAfter: (o?.newAfter ?? 0) > 0,
    };
  });
}

export function buildRunReport(data: RunData, title: string): RunReport {
  const files: Record<string, string> = {};
  const summary: string[] = [];
  const stages = metricsByStage(data.events);
  const svgs: string[] = [];
  if (stages.size > 0) {
    const loss = [...stages].flatMap(([stage, ms], i) => {
      const raw = ms.map((m) => [m.step, m.loss] as const);
      const smooth = ema(ms.map((m) => m.loss), 0.9).map((v, k) => [ms[k]!.step, v] as const);
      const color = PALETTE[i % PALETTE.length]!;
      return [
        { name: `${stage} loss`, points: raw, color, faint: true },
        { name: `${stage} loss (EMA 0.9)`, points: smooth, color },
      ];
    });
    files['loss.svg'] = lineChartSvg({ title: `Training loss — ${title}`, xLabel: 'step', yLabel: 'loss', series: loss, logY: true });
    files['lr.svg'] = lineChartSvg({
      title: 'Learning rate', xLabel: 'step', yLabel: 'lr',
      series: [...stages].map(([stage, ms], i) => ({ name: stage, points: ms.map((m) => [m.step, m.lr] as const), color: PALETTE[i % PALETTE.length]! })),
    });
    svgs.push(files['loss.svg'], files['lr.svg']);
    for (const [stage, ms] of stages) {
      const first = ms[0]!;
      const last = ms[ms.length - 1]!;
      const tps = ms.reduce((a, m) => a + m.tokens_per_s, 0) / ms.length;
      summary.push(`${stage}: ${ms.length} steps, loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, ${Math.round(tps).toLocaleString('en-US')} tokens/s mean`);
      summary.push(`  loss ${sparkline(ms.map((m) => m.loss))}`);
    }
  } else {
    summary.push('no training metrics in this run');
  }
  if (data.importance) {
    const imp = data.importance;
    files['importance.svg'] = barChartSvg({
      title: `Layer importance — ${imp.model}`,
      yLabel: 'angular distance / log-likelihood drop',
      seriesNames: ['angular distance (all tokens)', 'angular distance (last token)', 'removal drop'],
      colors: PALETTE,
      groups: importanceGroups(imp, data.layerMap),
    });
    svgs.push(files['importance.svg']);
    const order = imp.angular_all.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
    summary.push(`importance: ${imp.num_layers} blocks on ${imp.calibration.tokens.toLocaleString('en-US')} calibration tokens; least changing blocks (angular distance): ${order.slice(0, 3).map(([v, i]) => `${i} (${v.toFixed(3)})`).join(', ')}`);
    summary.push(`  angular ${sparkline(imp.angular_all, imp.num_layers)}`);
  }
  const evalHtml = evalSection(data, title, files, svgs, summary);
  const done = [...data.events].reverse().find((e) => e.kind === 'done');
  const status = done?.kind === 'done' ? `${done.status} (exit ${done.exit_code})` : 'not finished';
  summary.unshift(`run status: ${status}; ${data.events.length} events${data.badLines.length ? `, ${data.badLines.length} unreadable lines (first: line ${data.badLines[0]!.line}: ${data.badLines[0]!.reason})` : ''}`);
  const plan = data.layerMap ? `<p>Plan: <code>${escapeXml(data.layerMap.plan.expand)}</code> on <code>${escapeXml(data.layerMap.plan.model)}</code>, ${data.layerMap.base.numLayers} → ${data.layerMap.result.numLayers} blocks, ${data.layerMap.params.trainable.toLocaleString('en-US')} trainable of ${data.layerMap.params.total.toLocaleString('en-US')} parameters.</p>` : '';
  files['report.html'] = `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;max-width:760px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:.8em}</style></head>
<body><h1>${escapeXml(title)}</h1>
${plan}
<pre>${escapeXml(summary.join('\n'))}</pre>
${evalHtml}
${svgs.join('\n')}
</body></html>
`;
  return { files, summary };
}

/** The eval phase's scores: eval.md and eval.csv (base vs this run), a grouped bar chart, a verdict line. */
function evalSection(data: RunData, title: string, files: Record<string, string>, svgs: string[], summary: string[]): string {
  const scores = evalScores(data.events);
  if (!scores.length) return '';
  const c = compareRuns([{ run: 'run', scores }]);
  files['eval.md'] = renderComparison(c, 'md');
  files['eval.csv'] = renderComparison(c, 'csv');
  const harness = c.rows.filter((r) => r.source === 'harness');
  if (harness.length) {
    files['eval.svg'] = barChartSvg({
      title: `Evaluation — ${title} (base vs ${c.runs[0]!.model})`, yLabel: 'score (%)', seriesNames: ['base', c.runs[0]!.model], colors: ['#7f7f7f', PALETTE[0]!],
      groups: harness.map((r) => ({ label: `${r.group === 'domain' ? 'D' : 'G'} ${r.task}`, values: [r.base, r.cells[0]!.value] })),
    });
    svgs.push(files['eval.svg']);
  }
  summary.push(`evaluation (${c.runs[0]!.model} vs base): ${c.runs[0]!.verdict}`);
  const rows = c.rows.map((r) => `<tr><td>${r.group}</td><td>${escapeXml(r.task)}</td><td>${escapeXml(r.metric)}</td><td>${r.base?.toFixed(2) ?? ''}</td><td>${r.cells[0]!.value?.toFixed(2) ?? ''}</td><td style="color:${r.cells[0]!.better === null ? 'inherit' : r.cells[0]!.better ? '#2ca02c' : '#d62728'}">${r.cells[0]!.delta === null ? '' : r.cells[0]!.delta.toFixed(2)}</td></tr>`);
  return `<h2>Evaluation</h2><p>${escapeXml(c.runs[0]!.verdict)}</p><table><tr><th>group</th><th>task</th><th>metric</th><th>base</th><th>${escapeXml(c.runs[0]!.model)}</th><th>Δ</th></tr>${rows.join('')}</table>`;
}
