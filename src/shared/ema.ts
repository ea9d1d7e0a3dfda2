// Exponential moving average of a curve, debiased (the first values are not pulled towards 0):
// ema_t = s·ema_{t-1} + (1-s)·y_t, shown as ema_t / (1 - s^(t+1)). s = 0 is the raw curve.
// Kept incrementally: appending costs O(1) per point, a truncation restarts from the cut.
export class Ema {
  /** Debiased values, one per source point. */
  values = new Float32Array(1024);
  length = 0;
  private acc = 0;
  private weight = 0;
  // Undebiased accumulator and weight after each point, so a truncation can resume exactly.
  private accAt = new Float64Array(1024);
  private weightAt = new Float64Array(1024);

  constructor(public smoothing: number) {}

  /** Brings the average up to `n` source points (recomputing from `changedFrom` on). */
  sync(y: ArrayLike<number>, n: number, changedFrom = this.length): void {
    const from = Math.min(changedFrom, this.length, n);
    this.length = from;
    this.acc = from > 0 ? this.accAt[from - 1]! : 0;
    this.weight = from > 0 ? this.weightAt[from - 1]! : 0;
    if (n > this.values.length) {
      const cap = Math.max(n, this.values.length * 2);
      const v = new Float32Array(cap); v.set(this.values); this.values = v;
      const a = new Float64Array(cap); a.set(this.accAt); this.accAt = a;
      const w = new Float64Array(cap); w.set(this.weightAt); this.weightAt = w;
    }
    const s = this.smoothing;
    for (let i = from; i < n; i++) {
      this.acc = s * this.acc + (1 - s) * y[i]!;
      this.weight = s * this.weight + (1 - s);
      this.accAt[i] = this.acc;
      this.weightAt[i] = this.weight;
      this.values[i] = this.acc / this.weight;
    }
    this.length = n;
  }

  bytes(): number {
    return this.values.byteLength + this.accAt.byteLength + this.weightAt.byteLength;
  }

  setSmoothing(s: number, y: ArrayLike<number>, n: number): void {
    this.smoothing = s;
    this.length = 0;
    this.sync(y, n, 0);
  }
}

/** The debiased EMA of a whole series at once (the run report's smoothed curve). */
export function ema(values: ArrayLike<number>, smoothing: number): number[] {
  const e = new Ema(smoothing);
  e.sync(values, values.length);
  return Array.from(e.values.subarray(0, values.length));
}
