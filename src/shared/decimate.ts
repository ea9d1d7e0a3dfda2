// Min/max decimation that keeps spikes: the points are cut into at most `maxBuckets` buckets of
// equal point count, and each bucket is drawn by its first, lowest, highest and last point (in
// order), so a one-step loss spike always survives. Appending touches only the last bucket, and
// the output array is edited at its tail in place, so a chart holding it redraws without
// rebuilding its data. When the buckets run out, the bucket size doubles (a rebuild that happens
// about 20 times on the way to a million points).
export interface XY {
  x: number;
  y: number;
}

export class MinMaxDecimator {
  /** What the chart draws; the same array object for the decimator's whole life. */
  readonly out: XY[] = [];
  bucketSize = 1;
  /** Source points covered. */
  covered = 0;
  /** Full rebuilds so far (bucket size doubled, or data cut before the last bucket). */
  rebuilds = 0;
  // Per bucket: index of its min and max point.
  private minIdx: number[] = [];
  private maxIdx: number[] = [];
  /** Offset in `out` where each bucket's points start. */
  private outStart: number[] = [];

  constructor(readonly maxBuckets = 512) {}

  /**
   * Brings the output up to the first `n` source points. `changedFrom`: first source index whose
   * value changed (a truncation or a resumed run); buckets from there are recomputed.
   */
  sync(x: ArrayLike<number>, y: ArrayLike<number>, n: number, changedFrom = this.covered): void {
    const from = Math.min(changedFrom, this.covered, n);
    let grew = false;
    while (Math.ceil(n / this.bucketSize) > this.maxBuckets) {
      this.bucketSize *= 2;
      grew = true;
    }
    if (grew) {
      this.rebuilds++;
      this.reset();
    } else {
      // Drop the buckets that hold changed points, keep the ones before.
      const keepBuckets = Math.floor(from / this.bucketSize);
      if (keepBuckets < this.minIdx.length) {
        this.out.length = this.outStart[keepBuckets]!;
        this.minIdx.length = keepBuckets;
        this.maxIdx.length = keepBuckets;
        this.outStart.length = keepBuckets;
      }
      this.covered = keepBuckets * this.bucketSize;
    }
    // The last bucket may be partial: recompute it from its start.
    const b0 = Math.floor(this.covered / this.bucketSize);
    if (b0 < this.minIdx.length) {
      this.out.length = this.outStart[b0]!;
      this.minIdx.length = b0;
      this.maxIdx.length = b0;
      this.outStart.length = b0;
    }
    for (let start = b0 * this.bucketSize; start < n; start += this.bucketSize) {
      this.emitBucket(x, y, start, Math.min(start + this.bucketSize, n));
    }
    this.covered = n;
  }

  private reset(): void {
    this.out.length = 0;
    this.minIdx.length = 0;
    this.maxIdx.length = 0;
    this.outStart.length = 0;
    this.covered = 0;
  }

  private emitBucket(x: ArrayLike<number>, y: ArrayLike<number>, start: number, end: number): void {
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      const v = y[i]!;
      if (v < y[lo]!) lo = i;
      if (v > y[hi]!) hi = i;
    }
    this.minIdx.push(lo);
    this.maxIdx.push(hi);
    this.outStart.push(this.out.length);
    const idx = [start, lo, hi, end - 1].sort((a, b) => a - b);
    let prev = -1;
    for (const i of idx) {
      if (i === prev) continue;
      prev = i;
      this.out.push({ x: x[i]!, y: y[i]! });
    }
  }
}
