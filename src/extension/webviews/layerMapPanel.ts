// Layer map controller: compiles the open plan whenever it changes and sends the LayerMap with the
// core's overlay of it (deleted, final, trainable per base block: the view draws it, never derives
// it); while the plan does not compile, the last map of the same file stays on screen, marked stale.
import type * as vscode from 'vscode';
import { layerMapOverlay } from '../../core';
import type { LayerMap } from '../../protocol/layerMap';
import { analyzeDocument } from '../planCommands';
import type { PanelHost, ViewController } from './panelHost';
import type { PlanSource } from './planSource';

export class LayerMapController implements ViewController {
  private lastGood: { file: string; map: LayerMap } | null = null;
  private readonly sub: vscode.Disposable;

  constructor(private readonly host: PanelHost, private readonly plans: PlanSource) {
    this.sub = plans.onDidChange(() => this.refresh());
  }

  onReady(): void {
    this.refresh();
  }

  onMessage(): void {
    // The layer map view only listens.
  }

  refresh(): void {
    const doc = this.plans.document;
    if (!this.host.isReady) return;
    if (!doc) {
      this.host.post({ type: 'layerMap', layerMap: null, overlay: null, planFile: null, problems: [], stale: false });
      return;
    }
    const file = doc.uri.toString();
    const a = analyzeDocument(doc);
    if (a.layerMap) {
      this.lastGood = { file, map: a.layerMap };
      this.host.post({ type: 'layerMap', layerMap: a.layerMap, overlay: layerMapOverlay(a.layerMap), planFile: doc.uri.fsPath, problems: [], stale: false });
      return;
    }
    const problems = a.diagnostics.filter((d) => d.severity === 'error').slice(0, 5)
      .map((d) => `line ${a.lines.positionAt(d.span.start).line + 1}: ${d.message}`);
    const keep = this.lastGood?.file === file ? this.lastGood.map : null;
    this.host.post({ type: 'layerMap', layerMap: keep, overlay: keep && layerMapOverlay(keep), planFile: doc.uri.fsPath, problems: problems.length ? problems : ['the plan does not compile yet'], stale: keep !== null });
  }

  dispose(): void {
    this.sub.dispose();
  }
}
