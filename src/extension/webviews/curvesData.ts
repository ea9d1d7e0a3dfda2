// From runner events to the curves view's batches: metric events grouped by stage, column-wise.
// Pure (no `vscode`), shared by the curves panel and the tests that replay recorded runs.
import type { RunnerEvent, MetricEvent } from '../../protocol/runnerEvents';
import { emptyColumns, type MetricColumns } from '../../shared/series';

export function metricBatches(events: readonly RunnerEvent[]): Map<string, MetricColumns> {
  const out = new Map<string, MetricColumns>();
  for (const e of events) {
    if (e.kind !== 'metric') continue;
    let c = out.get(e.stage);
    if (!c) out.set(e.stage, (c = emptyColumns()));
    pushMetric(c, e);
  }
  return out;
}

export function pushMetric(c: MetricColumns, e: MetricEvent): void {
  c.step.push(e.step);
  c.tokens.push(e.tokens);
  c.loss.push(e.loss);
  c.lr.push(e.lr);
  c.gradNorm.push(e.grad_norm);
  c.tokensPerS.push(e.tokens_per_s);
  (c.time ??= []).push(e.t);
  (c.evalLoss ??= []).push(typeof e.eval_loss === 'number' ? e.eval_loss : NaN);
}
