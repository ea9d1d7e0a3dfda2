// One output channel per run, filled from the local log mirror and then live; plus progress
// notifications for the runner's long phases (surgery, importance) driven by its progress events.
import * as vscode from 'vscode';
import type { ProgressEvent } from '../../protocol/runnerEvents';
import type { RunRegistry } from './runRegistry';

interface OpenProgress {
  report(done: number, total: number, eta: number | null): void;
  end(): void;
}

export class RunOutputs implements vscode.Disposable {
  private readonly channels = new Map<string, vscode.OutputChannel>();
  private readonly progress = new Map<string, OpenProgress>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly registry: RunRegistry) {
    this.subs = [
      registry.onDidReceiveLog(({ runId, lines }) => this.channels.get(runId)?.append(lines.map((l) => `${l}\n`).join(''))),
      registry.onDidNotice(({ runId, message }) => this.channels.get(runId)?.appendLine(`[slayer] ${message}`)),
      registry.onDidReceiveEvents(({ runId, events }) => {
        for (const e of events) {
          if (e.kind === 'progress') this.onProgress(runId, e);
          else if ((e.kind === 'phase' && e.state === 'end') || e.kind === 'done') this.endProgress(runId, e.kind === 'phase' ? e.phase : null);
        }
      }),
    ];
  }

  show(runId: string): void {
    let ch = this.channels.get(runId);
    if (!ch) {
      const r = this.registry.get(runId);
      ch = vscode.window.createOutputChannel(`SLayer run: ${r?.label ?? runId}`);
      ch.append(this.registry.logText(runId));
      this.channels.set(runId, ch);
    }
    ch.show(true);
  }

  private onProgress(runId: string, e: ProgressEvent): void {
    if (!['surgery', 'importance', 'upload'].includes(e.phase)) return;
    const key = `${runId}/${e.phase}`;
    let p = this.progress.get(key);
    if (!p) {
      let reportFn: (done: number, total: number, eta: number | null) => void = () => undefined;
      let endFn: () => void = () => undefined;
      let last = 0;
      const label = this.registry.get(runId)?.label ?? runId;
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SLayer ${e.phase}: ${label}` }, (progress) =>
        new Promise<void>((resolve) => {
          reportFn = (done, total, eta) => {
            const pct = total > 0 ? (100 * done) / total : 0;
            progress.report({ increment: Math.max(0, pct - last), message: `${done}/${total} ${e.unit}${eta !== null ? ` · ETA ${Math.round(eta)} s` : ''}` });
            last = pct;
          };
          endFn = resolve;
        }));
      p = { report: (d, t, eta) => reportFn(d, t, eta), end: () => endFn() };
      this.progress.set(key, p);
    }
    p.report(e.done, e.total, e.eta_s);
    if (e.total > 0 && e.done >= e.total) this.endProgress(runId, e.phase);
  }

  private endProgress(runId: string, phase: string | null): void {
    for (const [key, p] of this.progress) {
      if (key === `${runId}/${phase}` || (phase === null && key.startsWith(`${runId}/`))) {
        p.end();
        this.progress.delete(key);
      }
    }
  }

  disposeChannel(runId: string): void {
    this.channels.get(runId)?.dispose();
    this.channels.delete(runId);
  }

  dispose(runId?: string): void {
    if (runId !== undefined) {
      this.disposeChannel(runId);
      return;
    }
    for (const ch of this.channels.values()) ch.dispose();
    for (const p of this.progress.values()) p.end();
    for (const s of this.subs) s.dispose();
  }
}
