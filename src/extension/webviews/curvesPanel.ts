// Training curves controller: the run list, and for the runs the view selected, their metric
// history (one reset batch per stage) followed by live appends from the run registry.
import type * as vscode from 'vscode';
import { colorOf, startTimeText } from '../../remote/runIdentity';
import { runDisplayName } from '../../remote/runStore';
import type { RunRegistry } from '../runs/runRegistry';
import { metricBatches } from './curvesData';
import type { PanelHost, ViewController } from './panelHost';

export class CurvesController implements ViewController {
  private selected = new Set<string>();
  private focus: string | null = null;
  /** Live runs already put in front of the view since it (re)opened: ticked once, then the user decides. */
  private readonly shownLive = new Set<string>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly host: PanelHost, private readonly registry: RunRegistry) {
    this.subs = [
      registry.onDidChangeRuns(() => this.postRuns()),
      registry.onDidReceiveEvents(({ runId, events }) => {
        if (!this.selected.has(runId)) return;
        for (const [stage, points] of metricBatches(events)) this.host.post({ type: 'metrics', runId, stage, reset: false, points });
      }),
    ];
  }

  /** Shows a run (from the Runs view's context menu) even if the view had not selected it. */
  reveal(runId: string | null): void {
    this.focus = runId;
    this.postRuns();
  }

  onReady(): void {
    this.selected.clear(); // the view re-selects; it gets full histories again
    this.shownLive.clear();
    this.postRuns();
  }

  private postRuns(): void {
    const runs = this.registry.list().map((r) => ({
      id: r.id, label: `${runDisplayName(r)} · ${startTimeText(r.createdAt)}`, host: r.host, state: r.state,
      name: runDisplayName(r), color: colorOf(r.color).hex, startedAt: r.startedAt ?? r.createdAt, detail: r.label,
    }));
    // A live run the view has not been shown yet is ticked (after a reload too); an explicit reveal wins.
    let focus = this.focus;
    const live = this.registry.list().find((r) => (r.state === 'running' || r.state === 'queued') && !this.shownLive.has(r.id));
    if (focus === null && live) focus = live.id;
    if (!this.host.post({ type: 'runs', runs, focus })) return; // the next `ready` posts it again
    if (live && focus === live.id) this.shownLive.add(live.id);
    this.focus = null;
  }

  onMessage(m: Parameters<ViewController['onMessage']>[0]): void {
    if (m.type !== 'selectRuns') return;
    const next = new Set(m.runIds.filter((id) => this.registry.get(id)));
    for (const id of next) {
      if (this.selected.has(id)) continue;
      for (const [stage, points] of metricBatches(this.registry.events(id))) this.host.post({ type: 'metrics', runId: id, stage, reset: true, points });
    }
    this.selected = next;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
