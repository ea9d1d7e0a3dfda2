// One run-and-stage's metrics, held column-wise in growable typed arrays (a million points cost
// ~40 MB, not the ~100 MB that objects would). Steps only grow; a step that comes again (the run
// resumed from a checkpoint and repeats what it had done since) replaces everything from that step
// on, so a resumed run never shows two points for one step.

/** Training metrics of one run and stage, column-wise (compact to post, cheap to append). */
export interface MetricColumns {
  step: number[];
  tokens: number[];
  loss: number[];
  lr: number[];
  gradNorm: number[];
  tokensPerS: number[];
  /** Wall-clock time of each point, Unix seconds (the events' `t`); absent from older hosts. */
  time?: number[];
  /** Evaluation loss where the runner measured one, NaN elsewhere; absent when none. */
  evalLoss?: number[];
}

export function emptyColumns(): MetricColumns {
  return { step: [], tokens: [], loss: [], lr: [], gradNorm: [], tokensPerS: [], time: [], evalLoss: [] };
}

export const METRIC_KEYS = ['loss', 'lr', 'gradNorm', 'tokensPerS'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
/** `time`: wall-clock seconds since the series' first point. */
export type XKey = 'step' | 'tokens' | 'time';

class Column<A extends Float64Array | Float32Array> {
  constructor(public data: A, private readonly make: (n: number) => A) {}
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = this.make(Math.max(n, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

const f64 = (n: number): Float64Array => new Float64Array(n);
const f32 = (n: number): Float32Array => new Float32Array(n);

export class MetricSeries {
  length = 0;
  /** Smallest index changed since the last `takeChangedFrom` (views redraw from there). */
  private changedFrom = Infinity;
  readonly step = new Column(f64(1024), f64);
  readonly tokens = new Column(f64(1024), f64);
  /** Seconds since `timeOrigin` (NaN when the host sent no times). */
  readonly time = new Column(f64(1024), f64);
  timeOrigin: number | null = null;
  /** Evaluation loss, NaN on the steps without one. */
  readonly evalLoss = new Column(f32(1024), f32);
  // Metric values in float32: plenty for plotting, half the memory.
  readonly metrics: Record<MetricKey, Column<Float32Array>> = {
    loss: new Column(f32(1024), f32), lr: new Column(f32(1024), f32),
    gradNorm: new Column(f32(1024), f32), tokensPerS: new Column(f32(1024), f32),
  };

  constructor(readonly runId: string, readonly stage: string) {}

  /** First index whose step is ≥ `step`. */
  indexOfStep(step: number): number {
    const s = this.step.data;
    return firstAtOrAfter(this.length, step, (i) => s[i]!);
  }

  truncate(n: number): void {
    if (n < this.length) {
      this.length = n;
      this.changedFrom = Math.min(this.changedFrom, n);
    }
  }

  clear(): void {
    this.truncate(0);
  }

  /** Appends a batch; a batch whose steps go back replaces from the first repeated step. */
  append(p: MetricColumns): void {
    const n = p.step.length;
    for (let i = 0; i < n; i++) {
      const step = p.step[i]!;
      this.truncate(resumeSlot(this.length, step, (j) => this.step.data[j]!));
      const at = this.length;
      this.step.ensure(at + 1);
      this.tokens.ensure(at + 1);
      this.time.ensure(at + 1);
      this.evalLoss.ensure(at + 1);
      this.step.data[at] = step;
      this.tokens.data[at] = p.tokens[i]!;
      const t = p.time?.[i];
      if (t !== undefined && this.timeOrigin === null) this.timeOrigin = t;
      this.time.data[at] = t === undefined ? NaN : t - this.timeOrigin!;
      this.evalLoss.data[at] = p.evalLoss?.[i] ?? NaN;
      for (const k of METRIC_KEYS) {
        const c = this.metrics[k];
        c.ensure(at + 1);
        c.data[at] = p[k][i]!;
      }
      this.length = at + 1;
      this.changedFrom = Math.min(this.changedFrom, at);
    }
  }

  x(key: XKey): Float64Array {
    return key === 'step' ? this.step.data : key === 'tokens' ? this.tokens.data : this.time.data;
  }

  y(key: MetricKey): Float32Array {
    return this.metrics[key].data;
  }

  /** Bytes held in typed arrays (outside the JS heap figures). */
  bytes(): number {
    return this.step.data.byteLength + this.tokens.data.byteLength + this.time.data.byteLength + this.evalLoss.data.byteLength + Object.values(this.metrics).reduce((a, c) => a + c.data.byteLength, 0);
  }

  takeChangedFrom(): number {
    const c = this.changedFrom;
    this.changedFrom = Infinity;
    return c;
  }
}

/** First index of `length` ascending steps whose step is ≥ `step` (binary search). */
function firstAtOrAfter(length: number, step: number, stepAt: (i: number) => number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (stepAt(mid) < step) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where a point for `step` goes among `length` ascending steps: after the last one, or, when the
 * step comes again (a resumed run repeats what it did since its checkpoint), at that step, with
 * everything from there on to be dropped. Shared by the curves view and the run report.
 */
export function resumeSlot(length: number, step: number, stepAt: (i: number) => number): number {
  return length > 0 && step <= stepAt(length - 1) ? firstAtOrAfter(length, step, stepAt) : length;
}
