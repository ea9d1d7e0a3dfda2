// Evaluation controller: every run's eval scores (from the run registry's events) for the
// Evaluation view, re-sent when a run streams new scores; `reveal` chooses the runs to compare.
import type * as vscode from 'vscode';
import type { RunRegistry } from '../runs/runRegistry';
import { evalScores } from '../../shared/evalCompare';
import type { EvaluatedRun } from '../../messages/webviewMessages';
import type { PanelHost, ViewController } from './panelHost';

export class EvaluationController implements ViewController {
  private focus: string[] = [];
  private readonly subs: vscode.Disposable[];

  constructor(private readonly host: PanelHost, private readonly registry: RunRegistry) {
    this.subs = [
      registry.onDidChangeRuns(() => this.postRuns()),
      registry.onDidReceiveEvents(({ events }) => {
        if (events.some((e) => e.kind === 'eval')) this.postRuns();
      }),
    ];
  }

  /** Compares these runs (one from a run's context menu, several from "Compare Runs"). */
  reveal(runIds: string[]): void {
    this.focus = runIds;
    this.postRuns();
  }

  onReady(): void {
    this.postRuns();
  }

  private postRuns(): void {
    const runs: EvaluatedRun[] = this.registry.list()
      .map((r) => ({ id: r.id, label: r.label, scores: evalScores(this.registry.events(r.id)) }))
      .filter((r) => r.scores.length > 0);
    this.host.post({ type: 'evaluation', runs, focus: this.focus });
  }

  onMessage(): void {
    // The view only exports (handled by the panel host).
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
