// A run's identity as people tell runs apart: a short readable name (`demo-3`: the plan's name and
// the run's number among that plan's runs), and a colour from a fixed palette that the Runs view,
// the curves, their legends and the output channel's name all use. Both are chosen once, at
// dispatch, and stored in the run's record, so they never change under the user's eyes.
import { basename } from 'node:path';

/** Tableau-10-like colours, each with the name that stands for it where text has no colour. */
export const RUN_COLORS: readonly { hex: string; name: string }[] = [
  { hex: '#1f77b4', name: 'blue' },
  { hex: '#ff7f0e', name: 'orange' },
  { hex: '#2ca02c', name: 'green' },
  { hex: '#d62728', name: 'red' },
  { hex: '#9467bd', name: 'purple' },
  { hex: '#8c564b', name: 'brown' },
  { hex: '#e6b800', name: 'yellow' },
  { hex: '#7f7f7f', name: 'grey' },
];

export interface RunIdentity {
  name: string;
  /** Index into RUN_COLORS. */
  color: number;
}

/** What identity needs to know of earlier runs. */
export interface NamedRun {
  name?: string | null;
  color?: number | null;
  planFile: string | null;
  createdAt: number;
}

/** `demo` for demo.slayer; for a LayerMap run without a plan file, `run`. */
export function planStem(planFile: string | null): string {
  const stem = planFile ? basename(planFile).replace(/\.(slayer|layermap\.json|json)$/i, '') : 'run';
  return stem.replace(/[^\p{L}\p{N}._-]+/gu, '-').slice(0, 32) || 'run';
}

/**
 * The next run of `planFile`: numbered one past the highest number its plan's runs carry (deleted
 * runs leave gaps rather than reusing names), coloured with the colour least used by the most
 * recent runs, so runs shown together differ.
 */
export function nextRunIdentity(planFile: string | null, earlier: readonly NamedRun[]): RunIdentity {
  const stem = planStem(planFile);
  const numbered = new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  let highest = 0;
  for (const r of earlier) {
    const m = r.name ? numbered.exec(r.name) : null;
    if (m) highest = Math.max(highest, Number(m[1]));
  }
  const recent = [...earlier].sort((a, b) => b.createdAt - a.createdAt).slice(0, RUN_COLORS.length - 1);
  const used = new Set(recent.map((r) => r.color).filter((c): c is number => typeof c === 'number'));
  let color = RUN_COLORS.findIndex((_, i) => !used.has(i));
  if (color < 0) color = earlier.length % RUN_COLORS.length;
  return { name: `${stem}-${highest + 1}`, color };
}

/** A name a user typed for a run: one line, trimmed, at most 64 characters; null when empty. */
export function cleanRunName(text: string): string | null {
  const t = text.replace(/[\r\n\t]+/g, ' ').trim().slice(0, 64);
  return t || null;
}

export function colorOf(color: number | null | undefined): (typeof RUN_COLORS)[number] {
  return RUN_COLORS[(((color ?? 0) % RUN_COLORS.length) + RUN_COLORS.length) % RUN_COLORS.length]!;
}

/** `14:03` local time (or `Dec 4 14:03` when not today): how the Runs view and notices date a run. */
export function startTimeText(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  if (new Date(now).toDateString() === d.toDateString()) return hm;
  return `${d.toLocaleString('en', { month: 'short' })} ${d.getDate()} ${hm}`;
}
