// The sweep table: one row per variant, as the paper's Table 3 prints its ablations — the
// expansion, its depth and trainable parameters, how the run ended, its final training loss and,
// when the plan has an eval section, each task's score of the variant's result model (the base's
// scores on a first row) with the domain/general verdict against the base. Markdown for papers,
// CSV for spreadsheets; the CLI (`slayer sweep-table`) and the editor's export write the same text.
import { compareRuns, evalScores, type CompareFormat } from '../shared/evalCompare';
import type { RunnerEvent } from '../protocol/runnerEvents';
import type { RunRecord } from '../remote/runStore';
import type { SweepRecord } from '../remote/sweepStore';

export type SweepTableFormat = Exclude<CompareFormat, 'table'> | 'table';

export interface SweepTable {
  title: string;
  columns: string[];
  /** Columns right-aligned in Markdown and the terminal. */
  numeric: boolean[];
  rows: string[][];
}

export interface SweepRun {
  record: RunRecord;
  events: readonly RunnerEvent[];
}

/** The last training loss a run reported (its last stage's last step). */
export function finalLoss(events: readonly RunnerEvent[]): number | null {
  let loss: number | null = null;
  for (const e of events) if (e.kind === 'metric') loss = e.loss;
  return loss;
}

const stateOf = (run: SweepRun | undefined, error: string | null): string => run?.record.state ?? (error ? 'not run' : 'pending');

export function buildSweepTable(sweep: SweepRecord, runOf: (runId: string) => SweepRun | undefined): SweepTable {
  const variants = [...sweep.variants].sort((a, b) => a.index - b.index);
  const runs = variants.map((v) => (v.runId ? runOf(v.runId) : undefined));
  const scored = variants.map((v, i) => ({ run: v.name, scores: evalScores(runs[i]?.events ?? []) }));
  const withScores = scored.filter((s) => s.scores.length);
  const comparison = withScores.length ? compareRuns(withScores) : null;
  const tasks = comparison?.rows ?? [];
  const columns = ['variant', 'expansion', 'train', 'blocks', 'trainable', 'state', 'final loss', ...tasks.map((t) => `${t.task} (${t.metric})`), ...(comparison ? ['verdict'] : [])];
  const numeric = columns.map((c) => ['blocks', 'trainable', 'final loss'].includes(c) || tasks.some((t) => c === `${t.task} (${t.metric})`));
  const fmt = (v: number | null, perplexity: boolean): string => (v === null ? '' : v.toFixed(perplexity ? 3 : 2));
  const rows: string[][] = [];
  if (comparison && tasks.some((t) => t.base !== null)) {
    rows.push(['base', '', '', '', '', '', '', ...tasks.map((t) => fmt(t.base, t.source === 'perplexity')), '']);
  }
  variants.forEach((v, i) => {
    const run = runs[i];
    const loss = run ? finalLoss(run.events) : null;
    const j = withScores.findIndex((s) => s.run === v.name);
    rows.push([
      v.name, v.expand, v.train, String(v.blocks), String(v.trainable), stateOf(run, v.error), loss === null ? '' : loss.toFixed(4),
      ...tasks.map((t) => (j < 0 ? '' : fmt(t.cells[j]!.value, t.source === 'perplexity'))),
      ...(comparison ? [j < 0 ? '' : comparison.runs[j]!.verdict] : []),
    ]);
  });
  return { title: `sweep ${sweep.name} (${sweep.id}) on ${sweep.host}`, columns, numeric, rows };
}

const csvField = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
const mdField = (s: string): string => s.replaceAll('|', '\\|');
const withThousands = (s: string): string => (/^\d{4,}$/.test(s) ? Number(s).toLocaleString('en-US') : s);

export function renderSweepTable(t: SweepTable, format: SweepTableFormat): string {
  if (format === 'csv') return [t.columns, ...t.rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  const rows = t.rows.map((r) => r.map((c, i) => (t.columns[i] === 'trainable' ? withThousands(c) : c)));
  if (format === 'md') {
    return [
      `| ${t.columns.map(mdField).join(' | ')} |`,
      `|${t.numeric.map((n) => (n ? '---:' : '---')).join('|')}|`,
      ...rows.map((r) => `| ${r.map(mdField).join(' | ')} |`),
    ].join('\n') + '\n';
  }
  const widths = t.columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((x, i) => (t.numeric[i] ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [t.title, '', line(t.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
