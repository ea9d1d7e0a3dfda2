// One output channel per run (named with its colour and name), filled from the local log mirror
// and then live, with a loss line every few seconds while it trains and a summary when it ends;
// plus progress notifications for the runner's long phases (surgery, importance).
import * as vscode from 'vscode';
import type { ProgressEvent } from '../../protocol/runnerEvents';
import { colorOf } from '../../remote/runIdentity';
import { runDisplayName, type RunRecord } from '../../remote/runStore';
import { LossLineThrottle, lossLine, runSummaryLines } from '../../remote/runSummary';
import type { RunRegistry } from './runRegistry';

/**
 * `SLayer run: demo-3 (blue)` — plain text: the Output dropdown is a native <select> whose fonts may
 * lack colour emoji (headless Chromium draws a box), so the run's colour is named instead.
 */
export function channelName(r: RunRecord | undefined, runId: string): string {
  return r ? `SLayer run: ${runDisplayName(r)} (${colorOf(r.color).name})` : `SLayer run: ${runId}`;
}

interface OpenProgress {
  report(done: number, total: number, eta: number | null): void;
  end(): void;
}

export class RunOutputs implements vscode.Disposable {
  private readonly channels = new Map<string, vscode.OutputChannel>();
  private readonly progress = new Map<string, OpenProgress>();
  private readonly subs: vscode.Disposable[];
  private readonly throttle = new LossLineThrottle();

  constructor(private readonly registry: RunRegistry) {
    this.subs = [
      registry.onDidReceiveLog(({ runId, lines }) => this.channels.get(runId)?.append(lines.map((l) => `${l}\n`).join(''))),
      registry.onDidNotice(({ runId, message }) => this.channels.get(runId)?.appendLine(`[slayer] ${message}`)),
      registry.onDidReceiveEvents(({ runId, events }) => {
        for (const e of events) {
          if (e.kind === 'metric' && this.throttle.due(runId)) this.note(runId, lossLine(e, this.registry.get(runId)?.etaS ?? null));
          if (e.kind === 'progress') this.onProgress(runId, e);
          else if ((e.kind === 'phase' && e.state === 'end') || e.kind === 'done') this.endProgress(runId, e.kind === 'phase' ? e.phase : null);
        }
      }),
      registry.onDidEndRun((r) => this.summarize(r)),
    ];
  }

  /** Opens (creating it from the mirror if needed) and, unless `reveal` is false, shows a run's channel. */
  show(runId: string, reveal = true): void {
    let ch = this.channels.get(runId);
    if (!ch) {
      const r = this.registry.get(runId);
      ch = vscode.window.createOutputChannel(channelName(r, runId));
      ch.append(this.registry.logText(runId));
      this.channels.set(runId, ch);
      // A run that ended before its channel existed (a refusal, a reload after the end) still gets its summary.
      if (r && ['succeeded', 'failed', 'cancelled', 'lost'].includes(r.state)) this.appendSummary(ch, r);
    }
    if (reveal) ch.show(true);
  }

  /** A line from the extension (not the runner) in a run's channel. */
  note(runId: string, line: string): void {
    this.channels.get(runId)?.appendLine(`[slayer] ${line}`);
  }

  private summarize(r: RunRecord): void {
    const ch = this.channels.get(r.id);
    if (ch) this.appendSummary(ch, r);
  }

  private appendSummary(ch: vscode.OutputChannel, r: RunRecord): void {
    for (const line of runSummaryLines(r, this.registry.events(r.id))) ch.appendLine(`[slayer] ${line}`);
  }

  private onProgress(runId: string, e: ProgressEvent): void {
    if (!['surgery', 'importance', 'upload'].includes(e.phase)) return;
    const key = `${runId}/${e.phase}`;
    let p = this.progress.get(key);
    if (!p) {
      let reportFn: (done: number, total: number, eta: number | null) => void = () => undefined;
      let endFn: () => void = () => undefined;
      let last = 0;
      const r = this.registry.get(runId);
      const label = r ? runDisplayName(r) : runId;
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
