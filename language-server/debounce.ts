// One pending timer per key (document URI): a burst of keystrokes yields one computation, run
// `delayMs` after the last of them.
//
// A delay of 0 ("as soon as possible") still coalesces: the work joins one batch that runs when the
// incoming messages pause — the batch timer is re-armed by every new piece of work, and the JSON-RPC
// layer handles one message per event-loop turn, so the timer fires only once the queue is drained —
// and at the latest MAX_DEFER_MS after the batch began, so a client that never pauses still gets
// diagnostics. A batch also waits twice as long as the previous one took, so under a sustained
// burst at most a third of the server's time goes to analysis and edits keep being applied.
// 50 documents × 1000 queued edits thus cost a few thousand analyses at most, not 50,000.
const MAX_DEFER_MS = 200;
const IDLE_FACTOR = 2;

export class Debouncer {
  private timers = new Map<string, NodeJS.Timeout>();
  private batch = new Map<string, () => void>();
  private batchTimer: NodeJS.Timeout | undefined;
  private batchSince = 0;
  /** The batch timer may not fire before this (performance.now()): the previous batch's end + its duration. */
  private batchEarliest = 0;

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    if (delayMs <= 0) {
      this.batch.set(key, fn);
      this.armBatch();
      return;
    }
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      fn();
    }, delayMs));
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
    this.batch.delete(key);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.batch.clear();
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  private armBatch(): void {
    const now = performance.now();
    if (!this.batchTimer) this.batchSince = now;
    else if (now - this.batchSince >= MAX_DEFER_MS) return; // overdue: let the armed timer fire
    else clearTimeout(this.batchTimer);
    this.batchTimer = setTimeout(() => this.runBatch(), Math.max(0, this.batchEarliest - now));
  }

  private runBatch(): void {
    this.batchTimer = undefined;
    const work = [...this.batch.values()];
    this.batch.clear();
    const started = performance.now();
    for (const fn of work) fn();
    const ended = performance.now();
    this.batchEarliest = ended + IDLE_FACTOR * (ended - started);
  }
}
