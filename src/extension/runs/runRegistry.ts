// The editor's view of runs: the vscode-free RunService/RunStore (src/remote) adapted to VS Code
// events. Webviews (live training curves) build on onDidReceiveEvents and events(runId).
import * as vscode from 'vscode';
import { parseEventLine, type RunnerEvent } from '../../protocol/runnerEvents';
import { isFinal } from '../../remote/runStatus';
import type { RunService } from '../../remote/runService';
import type { RunRecord } from '../../remote/runStore';

export class RunRegistry implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly received = new vscode.EventEmitter<{ runId: string; events: RunnerEvent[] }>();
  private readonly logged = new vscode.EventEmitter<{ runId: string; lines: string[] }>();
  private readonly noticed = new vscode.EventEmitter<{ runId: string; message: string }>();
  private readonly ended = new vscode.EventEmitter<RunRecord>();
  /** Runs whose end this window announced (each run once, in the window that streamed its end). */
  private readonly announced = new Set<string>();
  private readonly cache = new Map<string, RunnerEvent[]>();
  private changeTimer: NodeJS.Timeout | null = null;
  /** Mirror bytes already in the cache (events) or already shown (log), per run. */
  private readonly seen = new Map<string, { events: number; log: number }>();
  private readonly syncTimer: NodeJS.Timeout;

  readonly onDidChangeRuns: vscode.Event<void> = this.changed.event;
  readonly onDidReceiveEvents: vscode.Event<{ runId: string; events: RunnerEvent[] }> = this.received.event;
  readonly onDidReceiveLog: vscode.Event<{ runId: string; lines: string[] }> = this.logged.event;
  readonly onDidNotice: vscode.Event<{ runId: string; message: string }> = this.noticed.event;
  /** A run this window streamed reached its final state, with everything it wrote read. */
  readonly onDidEndRun: vscode.Event<RunRecord> = this.ended.event;

  constructor(readonly service: RunService) {
    this.syncTimer = setInterval(() => this.sync(), 2000);
  }

  list(): RunRecord[] {
    return this.service.store.list();
  }

  get(id: string): RunRecord | undefined {
    return this.service.store.get(id);
  }

  /** Every event received so far for a run (read back from the local mirror after a restart). */
  events(runId: string): RunnerEvent[] {
    let evs = this.cache.get(runId);
    if (!evs) {
      evs = [];
      this.cache.set(runId, evs);
      this.seen.set(runId, { events: 0, log: 0 });
      if (this.get(runId)) this.catchUp(runId, false);
    }
    return evs;
  }

  /**
   * Reads what the mirrors gained since we last looked, for runs another window streams (or that
   * we are about to take over); `fire` announces it like freshly streamed data.
   */
  private catchUp(runId: string, fire: boolean): void {
    const evs = this.cache.get(runId);
    const seen = this.seen.get(runId);
    if (!evs || !seen) return;
    const store = this.service.store;
    const eventsSize = store.mirrorSize(runId, 'events.jsonl');
    if (eventsSize > seen.events) {
      const text = store.readMirror(runId, 'events.jsonl', seen.events);
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      seen.events += Buffer.byteLength(complete);
      const fresh: RunnerEvent[] = [];
      for (const line of complete.split('\n')) {
        if (!line.trim()) continue;
        try {
          fresh.push(parseEventLine(line));
        } catch {
          // reported by the window that streamed it
        }
      }
      evs.push(...fresh);
      if (fire && fresh.length) this.received.fire({ runId, events: fresh });
    }
    const logSize = store.mirrorSize(runId, 'runner.log');
    if (logSize > seen.log) {
      const text = store.readMirror(runId, 'runner.log', seen.log);
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      seen.log += Buffer.byteLength(complete);
      if (fire && complete) this.logged.fire({ runId, lines: complete.slice(0, -1).split('\n') });
    }
  }

  /**
   * Every few seconds: pick up records written by other windows, take over unfinished runs whose
   * window went away, and relay what other windows stream into the shared mirrors.
   */
  private sync(): void {
    if (this.service.store.reload()) this.changed.fire();
    this.announceUnseenEnds();
    for (const r of this.list()) {
      if (isFinal(r.state) && !this.cache.has(r.id)) continue;
      if (this.service.isAttached(r.id)) continue;
      if (this.cache.has(r.id)) this.catchUp(r.id, true);
      if (!isFinal(r.state) && !dispatching(r)) this.attach(r.id);
    }
  }

  /**
   * Runs that ended in the last few minutes with no window to say so (the one streaming them was
   * reloading or closing): announced here, once. Older ones are only shown in the Runs view.
   */
  private announceUnseenEnds(now = Date.now()): void {
    for (const r of this.list()) {
      if (!isFinal(r.state) || r.endSeen !== false || this.announced.has(r.id)) continue;
      if (r.finishedAt !== null && now - r.finishedAt > UNSEEN_END_WINDOW_MS) continue;
      this.announced.add(r.id);
      this.ended.fire(r);
    }
  }

  logText(runId: string): string {
    return this.service.store.readMirror(runId, 'runner.log');
  }

  /** Starts streaming a run (idempotent); leaves it to the window that already streams it. */
  attach(runId: string): void {
    this.events(runId); // load the mirror before new events append to the cache
    this.catchUp(runId, true);
    const m = this.service.tryAttach(runId, {
      onEvents: (id, events) => {
        this.events(id).push(...events);
        const seen = this.seen.get(id);
        if (seen) seen.events = this.service.store.mirrorSize(id, 'events.jsonl');
        this.received.fire({ runId: id, events });
      },
      onLog: (id, lines) => {
        const seen = this.seen.get(id);
        if (seen) seen.log = this.service.store.mirrorSize(id, 'runner.log');
        this.logged.fire({ runId: id, lines });
      },
      onRecord: (rec) => {
        if (isFinal(rec.state) && !this.announced.has(rec.id)) {
          this.announced.add(rec.id);
          this.changed.fire();
          this.ended.fire(rec);
        } else if (!isFinal(rec.state)) this.announced.delete(rec.id); // resumed
        this.changedSoon();
      },
      onNotice: (id, message) => this.noticed.fire({ runId: id, message }),
    });
    if (m) this.changed.fire();
  }

  /** Re-attaches every run that was not finished when the editor last closed; returns them. */
  attachUnfinished(): RunRecord[] {
    const live = this.list().filter((r) => !isFinal(r.state) && !dispatching(r));
    for (const r of live) this.attach(r.id);
    return live;
  }

  reattach(runId: string): void {
    this.service.detach(runId);
    this.attach(runId);
  }

  async remove(runId: string): Promise<void> {
    await this.service.deleteRun(runId);
    this.cache.delete(runId);
    this.seen.delete(runId);
    this.changed.fire();
  }

  fireChanged(): void {
    this.changed.fire();
  }

  /** Record updates arrive with every batch of events; views need them a few times a second at most. */
  private changedSoon(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = null;
      this.changed.fire();
    }, 250);
  }

  /** The most recent run that is still going, for the status bar. */
  activeRun(): RunRecord | undefined {
    return this.list().find((r) => !isFinal(r.state));
  }

  dispose(): void {
    clearInterval(this.syncTimer);
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.service.dispose();
    this.changed.dispose();
    this.received.dispose();
    this.logged.dispose();
    this.noticed.dispose();
    this.ended.dispose();
  }
}

/**
 * A run still being uploaded and checked by the window that dispatches it: its host directory has
 * no launch yet, so a monitor would read "queued". Left alone unless its dispatch is long dead.
 */
/** How long after its end a run nobody was told about is still announced (a reload, a restart). */
const UNSEEN_END_WINDOW_MS = 10 * 60_000;

function dispatching(r: RunRecord, now = Date.now()): boolean {
  return r.state === 'uploading' && now - r.createdAt < 15 * 60_000;
}
