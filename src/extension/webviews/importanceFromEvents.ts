// Importance a run streamed as `importance` events, as an ImportanceFile (before the run's
// importance.json is fetched). Pure. The events carry no calibration details; those stay empty.
import { IMPORTANCE_METRICS, type ImportanceFile, type ImportanceMetric, type RunnerEvent } from '../../protocol/runnerEvents';

export function importanceFromEvents(model: string, events: readonly RunnerEvent[]): { file: ImportanceFile; missing: ImportanceMetric[] } | null {
  const series = new Map<ImportanceMetric, number[]>();
  for (const e of events) if (e.kind === 'importance') series.set(e.metric, e.values); // the last one wins
  const all = series.get('angular_all');
  if (!all || all.length === 0) return null;
  const n = all.length;
  const get = (m: ImportanceMetric): number[] | null => {
    const v = series.get(m);
    return v && v.length === n ? v : null;
  };
  const file: ImportanceFile = {
    v: 1, model, num_layers: n,
    calibration: { source: 'run events', sequences: 0, tokens: 0, seq_len: 0 },
    baseline_loglik: 0,
    angular_all: all, angular_last: get('angular_last') ?? all,
    removal_drop: get('removal_drop'), insert_copy_drop: get('insert_copy_drop'), insert_average_drop: get('insert_average_drop'),
  };
  return { file, missing: IMPORTANCE_METRICS.filter((m) => get(m) === null) };
}
