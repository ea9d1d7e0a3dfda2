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
  private readonly cache = new Map<string, RunnerEvent[]>();

  readonly onDidChangeRuns: vscode.Event<void> = this.changed.event;
  readonly onDidReceiveEvents: vscode.Event<{ runId: string; events: RunnerEvent[] }> = this.received.event;
  readonly onDidReceiveLog: vscode.Event<{ runId: string; lines: string[] }> = this.logged.event;
  readonly onDidNotice: vscode.Event<{ runId: string; message: string }> = this.noticed.event;

  constructor(readonly service: RunService) {}

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
      if (this.get(runId)) {
        for (const line of this.service.store.readMirror(runId, 'events.jsonl').split('\n')) {
          if (!line.trim()) continue;
          try {
            evs.push(parseEventLine(line));
          } catch {
            // a bad line was already reported when it streamed in
          }
        }
      }
      this.cache.set(runId, evs);
    }
    return evs;
  }

  logText(runId: string): string {
    return this.service.store.readMirror(runId, 'runner.log');
  }

  /** Starts streaming a run (idempotent). */
  attach(runId: string): void {
    this.events(runId); // load the mirror before new events append to the cache
    this.service.attach(runId, {
      onEvents: (id, events) => {
        this.events(id).push(...events);
        this.received.fire({ runId: id, events });
      },
      onLog: (id, lines) => this.logged.fire({ runId: id, lines }),
      onRecord: () => this.changed.fire(),
      onNotice: (id, message) => this.noticed.fire({ runId: id, message }),
    });
    this.changed.fire();
  }

  /** Re-attaches every run that was not finished when the editor last closed. */
  attachUnfinished(): void {
    for (const r of this.list()) if (!isFinal(r.state)) this.attach(r.id);
  }

  reattach(runId: string): void {
    this.service.detach(runId);
    this.attach(runId);
  }

  async remove(runId: string): Promise<void> {
    await this.service.deleteRun(runId);
    this.cache.delete(runId);
    this.changed.fire();
  }

  fireChanged(): void {
    this.changed.fire();
  }

  /** The most recent run that is still going, for the status bar. */
  activeRun(): RunRecord | undefined {
    return this.list().find((r) => !isFinal(r.state));
  }

  dispose(): void {
    this.service.dispose();
    this.changed.dispose();
    this.received.dispose();
    this.logged.dispose();
    this.noticed.dispose();
  }
}
