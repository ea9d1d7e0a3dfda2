// Base vs runs: the scores of the eval phase (eval events) as one comparison — a row per task,
// the base's value, each run's value and its delta, domain and general groups, and a one-line
// verdict per run ("+3.1 domain, −0.4 general"). Pure (shared with the Evaluation view): the CLI (`slayer compare`), the run
// report and the Evaluation view render the same comparison as a table, Markdown, CSV or charts.
import type { EvalEvent, EvalGroup, RunnerEvent } from '../protocol/runnerEvents';

export interface RunScores {
  /** Name shown for the run (its label or directory name). */
  run: string;
  scores: EvalEvent[];
}

export interface CompareCell {
  value: number | null;
  /** run − base, in display units (points for accuracies, perplexity units); null without a base. */
  delta: number | null;
  /** The delta is an improvement (higher-is-better aware); null when there is no delta. */
  better: boolean | null;
}

export interface CompareRow {
  group: EvalGroup;
  task: string;
  metric: string;
  source: EvalEvent['source'];
  higherIsBetter: boolean;
  base: number | null;
  cells: CompareCell[];
  /** Settings recorded next to the score (shots, limit, seed, versions), from the base or the first run. */
  settings: EvalEvent['settings'];
}

export interface Comparison {
  runs: { run: string; model: string; verdict: string; domain: number | null; general: number | null }[];
  rows: CompareRow[];
}

/** The eval events of a run's event stream, the last score per (model, task) winning. */
export function evalScores(events: readonly RunnerEvent[]): EvalEvent[] {
  const last = new Map<string, EvalEvent>();
  for (const e of events) if (e.kind === 'eval') last.set(`${e.model}\u0000${e.task}`, e);
  return [...last.values()];
}

/** The model a run is judged by: the final one, else the last stage's, else the expanded model. */
export function resultModel(scores: readonly EvalEvent[]): string | null {
  const models = [...new Set(scores.map((s) => s.model))].filter((m) => m !== 'base');
  if (models.includes('final')) return 'final';
  const stages = models.filter((m) => m !== 'expanded');
  return stages[stages.length - 1] ?? (models.includes('expanded') ? 'expanded' : null);
}

/** Display units: accuracies in percent points, perplexity as is. */
export const displayValue = (e: Pick<EvalEvent, 'source' | 'value'>): number => (e.source === 'perplexity' ? e.value : 100 * e.value);

export function compareRuns(runs: readonly RunScores[]): Comparison {
  const base = new Map<string, EvalEvent>();
  for (const r of runs) for (const s of r.scores) if (s.model === 'base' && !base.has(s.task)) base.set(s.task, s);
  const picked = runs.map((r) => {
    const model = resultModel(r.scores);
    return { run: r.run, model: model ?? 'base', byTask: new Map(r.scores.filter((s) => s.model === (model ?? 'base')).map((s) => [s.task, s])) };
  });
  const tasks = new Map<string, EvalEvent>();
  for (const s of base.values()) tasks.set(s.task, s);
  for (const p of picked) for (const s of p.byTask.values()) if (!tasks.has(s.task)) tasks.set(s.task, s);
  const order = (g: EvalGroup): number => (g === 'domain' ? 0 : 1);
  const rows: CompareRow[] = [...tasks.values()]
    .sort((a, b) => order(a.group) - order(b.group) || Number(a.source === 'perplexity') - Number(b.source === 'perplexity') || a.task.localeCompare(b.task))
    .map((t) => {
      const b = base.get(t.task);
      const baseValue = b ? displayValue(b) : null;
      return {
        group: t.group, task: t.task, metric: t.metric, source: t.source, higherIsBetter: t.higher_is_better, base: baseValue,
        settings: (b ?? t).settings,
        cells: picked.map((p) => {
          const s = p.byTask.get(t.task);
          if (!s) return { value: null, delta: null, better: null };
          const value = displayValue(s);
          const delta = baseValue === null || p.model === 'base' ? null : value - baseValue;
          return { value, delta, better: delta === null || delta === 0 ? null : (delta > 0) === t.higher_is_better };
        }),
      };
    });
  return {
    rows,
    runs: picked.map((p, i) => {
      const mean = (g: EvalGroup): number | null => {
        // Harness scores (points) make the verdict; perplexity joins only when a group has nothing else,
        // as its relative change in percent with the sign of "better".
        const harness = rows.filter((r) => r.group === g && r.source === 'harness' && r.cells[i]!.delta !== null);
        if (harness.length) return harness.reduce((a, r) => a + r.cells[i]!.delta!, 0) / harness.length;
        const ppl = rows.filter((r) => r.group === g && r.cells[i]!.delta !== null && r.base);
        if (!ppl.length) return null;
        return ppl.reduce((a, r) => a - (100 * r.cells[i]!.delta!) / r.base!, 0) / ppl.length;
      };
      const domain = mean('domain');
      const general = mean('general');
      return { run: p.run, model: p.model, domain, general, verdict: verdict(domain, general) };
    }),
  };
}

export const signed = (v: number, digits = 1): string => `${v > 0 ? '+' : v < 0 ? '−' : '±'}${Math.abs(v).toFixed(digits)}`;

export function verdict(domain: number | null, general: number | null): string {
  const parts = [domain === null ? null : `${signed(domain)} domain`, general === null ? null : `${signed(general)} general`].filter((x): x is string => x !== null);
  return parts.length ? parts.join(', ') : 'no comparison with the base';
}

export type CompareFormat = 'table' | 'md' | 'csv';

const fmt = (v: number | null, source: EvalEvent['source']): string => (v === null ? '' : v.toFixed(source === 'perplexity' ? 3 : 2));
const fmtDelta = (c: CompareCell, source: EvalEvent['source']): string => (c.delta === null ? '' : signed(c.delta, source === 'perplexity' ? 3 : 2));

function header(c: Comparison): string[] {
  return ['group', 'task', 'metric', 'base', ...c.runs.flatMap((r) => [r.run, `Δ ${r.run}`])];
}

function body(c: Comparison): string[][] {
  return c.rows.map((r) => [r.group, r.task, r.metric, fmt(r.base, r.source), ...r.cells.flatMap((cell) => [fmt(cell.value, r.source), fmtDelta(cell, r.source)])]);
}

const csvField = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const mdField = (s: string): string => s.replaceAll('|', '\\|');

/** The comparison as text: an aligned terminal table, a Markdown table (paper-ready), or CSV. */
export function renderComparison(c: Comparison, format: CompareFormat): string {
  const head = header(c);
  const rows = body(c);
  const verdicts = c.runs.map((r) => `${r.run} (${r.model}): ${r.verdict}`);
  if (format === 'csv') return [head, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  if (format === 'md') {
    const numeric = head.map((_, i) => i >= 3);
    return [
      `| ${head.map(mdField).join(' | ')} |`,
      `|${numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
      ...rows.map((r) => `| ${r.map(mdField).join(' | ')} |`),
      '',
      ...verdicts.map((v) => `- ${mdField(v)}`),
    ].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((x, i) => (i >= 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '', ...verdicts].join('\n') + '\n';
}
