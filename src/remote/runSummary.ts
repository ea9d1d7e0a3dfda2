// What a run says in words: the periodic loss line of its output channel, the summary at its end
// and the one-line notice when it ends. Pure (records and events in, text out), shared by the
// editor and the CLI.
import type { ErrorEvent, MetricEvent, RunnerEvent } from '../protocol/runnerEvents';
import { formatDuration } from '../shared/format';
import { runDisplayName, type RunRecord } from './runStore';

const compact = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

/** `[cpt] step 120 · loss 2.1342 · lr 2.9e-3 · 1.5k tok/s · ETA 40s` */
export function lossLine(e: MetricEvent, etaS: number | null = null): string {
  const eta = etaS !== null && etaS > 0 ? ` · ETA ${formatDuration(etaS * 1000)}` : '';
  return `[${e.stage}] step ${e.step} · loss ${e.loss.toFixed(4)} · lr ${e.lr.toExponential(1)} · ${compact(e.tokens_per_s)} tok/s${eta}`;
}

/** One loss line every `everyMs` per run (and always the first), so a fast run does not flood the channel. */
export class LossLineThrottle {
  private last = new Map<string, number>();
  constructor(private readonly everyMs = 10_000) {}
  due(runId: string, now = Date.now()): boolean {
    const prev = this.last.get(runId);
    if (prev !== undefined && now - prev < this.everyMs) return false;
    this.last.set(runId, now);
    return true;
  }
}

function lastMetric(events: readonly RunnerEvent[]): MetricEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.kind === 'metric') return events[i] as MetricEvent;
  return undefined;
}

function lastError(events: readonly RunnerEvent[]): ErrorEvent | undefined {
  for (let i = events.length - 1; i >= 0; i--) if (events[i]!.kind === 'error') return events[i] as ErrorEvent;
  return undefined;
}

/** Wall time of a finished run: from its start (or creation) to its end. */
export function runDuration(r: RunRecord): number {
  return (r.finishedAt ?? Date.now()) - (r.startedAt ?? r.createdAt);
}

/** The lines that close a run's output channel. */
export function runSummaryLines(r: RunRecord, events: readonly RunnerEvent[]): string[] {
  const m = lastMetric(events);
  const lines = [`── ${runDisplayName(r)} ${r.state}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''} after ${formatDuration(runDuration(r))} on ${r.host} ──`];
  if (m) lines.push(`final loss ${m.loss.toFixed(4)} at step ${m.step} of stage ${m.stage} (${compact(m.tokens)} tokens)`);
  const err = lastError(events);
  if (r.state !== 'succeeded' && err) lines.push(`error${err.where ? ` in ${err.where}` : ''}: ${err.message}`);
  const artifacts = events.filter((e) => e.kind === 'artifact').map((e) => (e.kind === 'artifact' ? e.name : ''));
  if (r.state === 'succeeded') {
    const model = artifacts.includes('model') ? 'out/model' : artifacts.includes('config') ? 'out/expanded' : null;
    if (model) lines.push(`model: ${r.remoteDir}/${model} on ${r.host}`);
  } else if (r.state === 'cancelled' || r.state === 'failed') {
    if (events.some((e) => e.kind === 'log' && /^checkpoint /.test(e.msg)) || artifacts.length) lines.push('"Resume Run" continues it from its latest checkpoint.');
  }
  return lines;
}

/** The notification's text: result, final loss, duration. */
export function endMessage(r: RunRecord, events: readonly RunnerEvent[]): string {
  const m = lastMetric(events);
  const loss = m ? `, final loss ${m.loss.toFixed(4)} (step ${m.step})` : '';
  const err = r.state === 'failed' ? lastError(events) : undefined;
  return `${runDisplayName(r)} ${r.state} in ${formatDuration(runDuration(r))}${loss}${err ? `: ${err.message}` : ''}`;
}
