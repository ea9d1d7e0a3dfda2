// Watches one run: follows events.jsonl and runner.log by byte offset into the local mirrors,
// polls the run's status, and decides when it is finished — only once its exit code exists and
// both files have been read to the end.
import { RUN_FILES } from '../protocol/contracts';
import { parseEventLine, type RunnerEvent } from '../protocol/runnerEvents';
import { FileFollower } from './fileFollower';
import type { HostSettings } from './hostSettings';
import { followScript, statusScript } from './runScripts';
import { isFinal, parseStatusOutput, stateFromStatus, type RemoteRunStatus, type RunState } from './runStatus';
import type { RunRecord, RunStore } from './runStore';
import type { Transport } from './transport';

export interface MonitorListener {
  onEvents?(runId: string, events: RunnerEvent[]): void;
  onLog?(runId: string, lines: string[]): void;
  onRecord?(record: RunRecord): void;
  /** Connection trouble and recovery, bad lines, sequence anomalies. */
  onNotice?(runId: string, message: string): void;
}

export interface MonitorOptions {
  pollMs?: number;
  /** Consecutive polls that must agree a run vanished before it is called lost. */
  lostAfterPolls?: number;
}

export interface SequenceReport {
  received: number;
  duplicates: number;
  gaps: number;
  lastSeq: number;
}

export class RunMonitor {
  private events: FileFollower;
  private log: FileFollower;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = false;
  private lastSeq = -1;
  private lostPolls = 0;
  private doneStatus: 'succeeded' | 'failed' | 'cancelled' | null = null;
  private finishedResolve!: (r: RunRecord) => void;
  /** Resolves with the final record once the run is finished and fully read. */
  readonly finished: Promise<RunRecord>;
  readonly sequence: SequenceReport = { received: 0, duplicates: 0, gaps: 0, lastSeq: -1 };

  constructor(
    private readonly transport: Transport,
    private readonly settings: HostSettings,
    private readonly store: RunStore,
    readonly runId: string,
    private readonly listener: MonitorListener,
    private readonly options: MonitorOptions = {},
  ) {
    this.finished = new Promise((resolve) => (this.finishedResolve = resolve));
    // Re-read what the mirror already holds so seq checks continue across editor restarts.
    for (const line of store.readMirror(runId, 'events.jsonl').split('\n')) {
      const ev = tryParse(line);
      if (ev) this.noteEvent(ev);
    }
    const opener = (file: string) => (offset: number, onData: (b: Buffer) => void) =>
      transport.stream(followScript(settings, runId, file, offset), onData);
    const notices = (what: string) => ({
      onDisconnect: (reason: string, ms: number) => listener.onNotice?.(runId, `${what} stream dropped (${reason || 'connection lost'}); reconnecting in ${ms} ms`),
      onReconnect: () => listener.onNotice?.(runId, `${what} stream reconnected`),
    });
    this.events = new FileFollower(opener(RUN_FILES.events), store.mirrorOffset(runId, 'events.jsonl'), {
      onLines: (lines) => this.acceptEventLines(lines),
      ...notices('events'),
    });
    this.log = new FileFollower(opener(RUN_FILES.log), store.mirrorOffset(runId, 'runner.log'), {
      onLines: (lines) => {
        store.appendMirror(runId, 'runner.log', lines);
        listener.onLog?.(runId, lines);
      },
      ...notices('log'),
    });
  }

  start(): void {
    const rec = this.store.get(this.runId);
    // A final record is only stored after both files were read to their end.
    if (rec && isFinal(rec.state)) {
      this.finishedResolve(rec);
      return;
    }
    this.events.start();
    this.log.start();
    void this.poll();
  }

  /** Drops both streams (they reconnect by themselves); used by "re-attach" and the tests. */
  reconnect(): void {
    this.events.restart();
    this.log.restart();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.events.stop();
    this.log.stop();
  }

  /** Byte offsets read so far (events, log). */
  offsets(): { events: number; log: number } {
    return { events: this.events.offset, log: this.log.offset };
  }

  private acceptEventLines(lines: string[]): void {
    // The mirror must stay byte-identical to the remote file (its length is the offset), so every
    // line goes in; only valid, new events go on to the listeners.
    this.store.appendMirror(this.runId, 'events.jsonl', lines);
    const fresh: RunnerEvent[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      let ev: RunnerEvent;
      try {
        ev = parseEventLine(line);
      } catch (e) {
        this.listener.onNotice?.(this.runId, `skipped a bad event line: ${(e as Error).message}`);
        continue;
      }
      if (this.noteEvent(ev)) fresh.push(ev);
    }
    if (fresh.length === 0) return;
    this.applyToRecord(fresh);
    this.listener.onEvents?.(this.runId, fresh);
  }

  /** Seq bookkeeping; false for a duplicate. */
  private noteEvent(ev: RunnerEvent): boolean {
    if (ev.seq <= this.lastSeq) {
      this.sequence.duplicates++;
      return false;
    }
    if (ev.seq !== this.lastSeq + 1) {
      this.sequence.gaps++;
      this.listener.onNotice?.(this.runId, `event sequence jumped from ${this.lastSeq} to ${ev.seq}`);
    }
    this.lastSeq = ev.seq;
    this.sequence.lastSeq = ev.seq;
    this.sequence.received++;
    if (ev.kind === 'done') this.doneStatus = ev.status;
    return true;
  }

  private applyToRecord(events: RunnerEvent[]): void {
    const patch: Partial<RunRecord> = {};
    for (const ev of events) {
      if (ev.kind === 'metric') {
        patch.lastStep = ev.step;
        patch.lastLoss = ev.loss;
      } else if (ev.kind === 'progress') {
        patch.etaS = ev.eta_s;
      } else if (ev.kind === 'error') {
        patch.message = ev.message;
      }
    }
    const rec = this.store.get(this.runId);
    if (rec && (rec.state === 'queued' || rec.state === 'uploading')) patch.state = 'running';
    this.emitRecord(this.store.update(this.runId, patch, patch.state === undefined));
  }

  private emitRecord(rec: RunRecord | undefined): void {
    if (rec) this.listener.onRecord?.(rec);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      const r = await this.transport.exec(statusScript(this.settings, [this.runId]), { timeoutMs: 30_000 });
      const status = r.code === 0 ? parseStatusOutput(r.stdout.toString('utf8'))[0] : undefined;
      if (status) this.onStatus(status);
      else this.listener.onNotice?.(this.runId, `status poll failed: ${r.stderr.trim() || `exit ${r.code}`}`);
    } catch (e) {
      this.listener.onNotice?.(this.runId, `status poll failed: ${(e as Error).message}`);
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  private onStatus(s: RemoteRunStatus): void {
    let state: RunState = stateFromStatus(s, this.doneStatus);
    if (state === 'lost') {
      this.lostPolls++;
      if (this.lostPolls < (this.options.lostAfterPolls ?? 3)) return;
    } else this.lostPolls = 0;
    const rec = this.store.get(this.runId);
    if (!rec) return;
    const patch: Partial<RunRecord> = {};
    if (s.startedAt !== null && rec.startedAt === null) patch.startedAt = s.startedAt * 1000;
    if (s.pid !== null && rec.pid === null) patch.pid = s.pid;
    const ended = s.exitCode !== null || state === 'lost';
    if (ended) {
      // Finished only when both files have been read up to the sizes measured now.
      const readAll = this.events.received >= s.eventsSize && this.log.received >= s.logSize;
      if (!readAll && state !== 'lost') {
        state = rec.state === 'queued' ? 'running' : rec.state;
      } else {
        this.events.stop(true);
        this.log.stop(true);
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        state = stateFromStatus(s, this.doneStatus);
        patch.exitCode = s.exitCode;
        patch.finishedAt = Date.now();
      }
    }
    if (state !== rec.state) patch.state = state;
    if (Object.keys(patch).length) this.emitRecord(this.store.update(this.runId, patch));
    if (this.stopped) this.finishedResolve(this.store.get(this.runId)!);
  }
}

function tryParse(line: string): RunnerEvent | null {
  if (!line.trim()) return null;
  try {
    return parseEventLine(line);
  } catch {
    return null;
  }
}
