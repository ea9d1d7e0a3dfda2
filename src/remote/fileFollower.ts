// Follows a growing file on a host from a byte offset (tail -c +N -F) and hands over complete
// lines only. Bytes are split at '\n' before decoding, so a multibyte character cut between two
// reads is never decoded in halves. After a dropped link the stream restarts from the offset of
// the last complete line delivered: no gap, no duplicate.
import type { StreamHandle } from './transport';

export interface FollowerCallbacks {
  /** Complete lines (without '\n') and the byte offset just after the last of them. */
  onLines(lines: string[], offset: number): void;
  /** The stream ended unexpectedly and will restart after `retryInMs`. */
  onDisconnect?(reason: string, retryInMs: number): void;
  onReconnect?(): void;
}

export type StreamOpener = (offset: number, onData: (chunk: Buffer) => void) => StreamHandle;

const NEWLINE = 0x0a;

export class FileFollower {
  private committed: number;
  private pending: Buffer = Buffer.alloc(0);
  private handle: StreamHandle | null = null;
  private stopped = false;
  private backoffMs: number;
  private everConnected = false;
  private dataSinceStart = false;
  private generation = 0;

  constructor(
    private readonly open: StreamOpener,
    startOffset: number,
    private readonly cb: FollowerCallbacks,
    private readonly minBackoffMs = 250,
    private readonly maxBackoffMs = 5000,
  ) {
    this.committed = startOffset;
    this.backoffMs = minBackoffMs;
  }

  /** Offset just after the last complete line delivered. */
  get offset(): number {
    return this.committed;
  }

  /** Bytes received, including an incomplete last line. */
  get received(): number {
    return this.committed + this.pending.length;
  }

  start(): void {
    if (this.stopped || this.handle) return;
    this.pending = Buffer.alloc(0);
    this.dataSinceStart = false;
    const gen = ++this.generation;
    // Late chunks from a stream we already gave up on must not be mixed into the new one.
    const handle = this.open(this.committed, (chunk) => {
      if (gen === this.generation) this.accept(chunk);
    });
    this.handle = handle;
    if (this.everConnected) this.cb.onReconnect?.();
    this.everConnected = true;
    void handle.ended.then(
      (r) => this.ended(handle, r.stderr || `stream exited with ${String(r.code)}`),
      (e: Error) => this.ended(handle, e.message),
    );
  }

  private accept(chunk: Buffer): void {
    if (this.stopped) return;
    this.dataSinceStart = true;
    this.backoffMs = this.minBackoffMs;
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const last = buf.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.pending = Buffer.from(buf);
      return;
    }
    const complete = buf.subarray(0, last);
    this.pending = Buffer.from(buf.subarray(last + 1));
    this.committed += last + 1;
    this.cb.onLines(complete.toString('utf8').split('\n'), this.committed);
  }

  private ended(handle: StreamHandle, reason: string): void {
    if (this.handle !== handle) return;
    this.handle = null;
    this.generation++;
    if (this.stopped) return;
    const wait = this.backoffMs;
    this.backoffMs = this.dataSinceStart ? this.minBackoffMs : Math.min(this.maxBackoffMs, this.backoffMs * 2);
    this.cb.onDisconnect?.(reason.trim(), wait);
    setTimeout(() => this.start(), wait).unref?.();
  }

  /** Drops the connection now (used by tests and by "reattach") and lets the loop reconnect. */
  restart(): void {
    this.handle?.stop();
  }

  /** Stops following. `flush` delivers a final line that has no trailing newline. */
  stop(flush = false): void {
    if (flush && this.pending.length) {
      this.committed += this.pending.length;
      const text = this.pending.toString('utf8');
      this.pending = Buffer.alloc(0);
      this.cb.onLines([text], this.committed);
    }
    this.stopped = true;
    this.generation++;
    const h = this.handle;
    this.handle = null;
    h?.stop();
  }
}
