// Layer importance controller: finds measured importance (a file the user opened, else the newest
// fetched run artifact out/importance.json in the workspace, else importance events a run
// streamed), overlays the open plan, and turns "add a block here" into a workspace edit of the
// plan, which the language server then re-checks like any edit.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol/commands';
import { validateImportanceFile, type ImportanceFile } from '../../protocol/runnerEvents';
import type { SuggestionPreview, WeightSimilarity } from '../../messages/webviewMessages';
import { analyzeDocument } from '../planCommands';
import type { RunRegistry } from '../runs/runRegistry';
import { importanceFromEvents } from './importanceFromEvents';
import { insertBlockAfter } from './insertBlock';
import type { PanelHost, ViewController } from './panelHost';
import { planOverlay, profileFromImportance, profileFromSimilarity, suggestionPreview, type ImportanceProfile, type PlanAnalysis, type PlanOverlay } from '../../core';
import { measuredOnPlanModel } from './modelIdentity';
import type { PlanSource } from './planSource';
import { computeWeightSimilarity, localCheckpointOf } from './weightSimilarity';
import { applyExpansion, pickSuggestion } from './suggestFlow';

const CHOSEN_KEY = 'slayer.importance.file';

/** A measurement and where it came from: a picked file, a run's artifact, a run's events. */
interface Found {
  file: ImportanceFile;
  source: string;
  picked: boolean;
  /** The run that measured it, when known (its plan file tells whether it is this plan's model). */
  runId?: string;
}
const ARTIFACT_GLOB = '**/.slayer/runs/*/{out/importance.json,importance.json}';

export class ImportanceController implements ViewController {
  private readonly subs: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;
  /** The measurement last found; plan edits only redo the overlay, new artifacts or events redo this. */
  private found: { hit: Found | null; notes: string[] } | undefined;
  /** Weight similarity computed on request, kept while the plan names the same checkpoint. */
  private similarity: WeightSimilarity | null = null;
  private similarityBusy = false;
  /** A suggested expansion being previewed over the charts, and the plan it is for. */
  private suggestion: { doc: vscode.TextDocument; preview: SuggestionPreview } | null = null;

  constructor(
    private readonly host: PanelHost,
    private readonly registry: RunRegistry,
    private readonly plans: PlanSource,
    private readonly memento: vscode.Memento,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(ARTIFACT_GLOB);
    this.subs = [
      watcher, watcher.onDidCreate(() => this.refreshSoon()), watcher.onDidChange(() => this.refreshSoon()),
      plans.onDidChange(() => void this.refresh()),
      registry.onDidReceiveEvents(({ events }) => {
        if (events.some((e) => e.kind === 'importance')) this.refreshSoon();
      }),
    ];
  }

  onReady(): void {
    this.found = undefined;
    void this.refresh();
  }

  private refreshSoon(): void {
    this.found = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  async refresh(): Promise<void> {
    if (!this.host.isReady) return;
    const { hit: found, notes: foundNotes } = await this.measurement();
    const notes = [...foundNotes];
    const doc = this.plans.document;
    const a = doc ? analyzeDocument(doc) : null;
    const overlay = this.overlay(notes, a);
    const ckpt = a ? localCheckpointOf(a) : null;
    if (this.similarity && (!ckpt || !('dir' in ckpt) || ckpt.dir !== this.similarity.source)) this.similarity = null;
    let same = false;
    if (found && a?.model && a.layout) {
      const runPlanFile = found.runId ? this.registry.get(found.runId)?.planFile ?? null : null;
      same = measuredOnPlanModel(
        { ref: found.file.model, numLayers: found.file.num_layers, runPlanFile },
        { id: a.model.id, numLayers: a.layout.baseLayers, planFile: doc!.uri.fsPath },
      );
      if (!same) {
        notes.push(`The measurement is of ${found.file.model} (${found.file.num_layers} blocks), not of the plan's model ${a.model.id} (${a.layout.baseLayers} blocks): the plan is not drawn over it.`);
      }
    }
    this.host.post({
      type: 'importance', importance: found?.file ?? null, source: found?.source ?? null, overlay, notes, similarity: this.similarity,
      measuredOnPlanModel: same, picked: found?.picked ?? false, canComputeSimilarity: ckpt !== null && 'dir' in ckpt,
    });
    this.host.post({ type: 'suggestion', preview: this.suggestion?.preview ?? null });
  }

  private async measurement(): Promise<{ hit: Found | null; notes: string[] }> {
    if (this.found === undefined) {
      const notes: string[] = [];
      this.found = { hit: await this.findImportance(notes), notes };
    }
    return this.found;
  }

  /**
   * SLayer: Suggest Expansion… for the open plan: from the measurement of its model, else the
   * weight similarity of its checkpoint; the result is previewed in the view until applied.
   */
  async suggest(): Promise<void> {
    const doc = this.plans.document;
    if (!doc) {
      void vscode.window.showErrorMessage('SLayer: open a .slayer plan to suggest an expansion for.');
      return;
    }
    const a = analyzeDocument(doc);
    if (!a.model?.shape) {
      void vscode.window.showErrorMessage(`SLayer: the model of ${vscode.workspace.asRelativePath(doc.uri)} has no known shape yet (check the plan's errors).`);
      return;
    }
    const profile = await this.profileFor(doc, a);
    if (!profile) {
      const choice = await vscode.window.showWarningMessage(
        `SLayer: no layer importance is known for ${a.model.id} (${a.model.shape.numLayers} blocks). Measure it with a run (the importance phase), open an importance.json, or compute the weight similarity of a local checkpoint.`,
        'Open importance.json…', 'Weight Similarity');
      if (choice === 'Open importance.json…') await this.onMessage({ type: 'openImportanceFile' });
      else if (choice === 'Weight Similarity') await this.computeSimilarity();
      return;
    }
    let s;
    try {
      s = await pickSuggestion(a, profile);
    } catch (e) {
      void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);
      return;
    }
    if (!s) return;
    this.suggestion = { doc, preview: suggestionPreview(s, doc.uri.fsPath, profile) };
    await this.refresh();
  }

  /** The measurement when it is of the plan's model; else the plan checkpoint's weight similarity. */
  private async profileFor(doc: vscode.TextDocument, a: PlanAnalysis): Promise<ImportanceProfile | null> {
    const { hit } = await this.measurement();
    const shape = a.model?.shape;
    if (hit && a.model && shape) {
      const runPlanFile = hit.runId ? this.registry.get(hit.runId)?.planFile ?? null : null;
      if (measuredOnPlanModel({ ref: hit.file.model, numLayers: hit.file.num_layers, runPlanFile }, { id: a.model.id, numLayers: shape.numLayers, planFile: doc.uri.fsPath })) {
        return profileFromImportance(hit.file);
      }
    }
    const ckpt = localCheckpointOf(a);
    if (this.similarity && 'dir' in ckpt && ckpt.dir === this.similarity.source && this.similarity.blockCosine.length + 1 === shape?.numLayers) {
      return profileFromSimilarity(this.similarity.blockCosine, this.similarity.source);
    }
    return null;
  }

  private async applySuggestion(): Promise<void> {
    const current = this.suggestion;
    if (!current) return;
    const doc = current.doc.isClosed ? await vscode.workspace.openTextDocument(current.doc.uri) : current.doc;
    const r = await applyExpansion(doc, current.preview.expand);
    if (!r.ok) {
      this.host.post({ type: 'notice', level: 'error', message: 'The edit was not applied (is the plan read-only?).' });
      return;
    }
    this.suggestion = null;
    this.host.post({ type: 'notice', level: 'info', message: `expand ${r.before ?? '(none)'} → ${current.preview.expand}` });
    await this.refresh();
  }

  private overlay(notes: string[], a: PlanAnalysis | null): PlanOverlay | null {
    const doc = this.plans.document;
    if (!doc || !a) {
      notes.push('Open a .slayer plan to see where it adds, deletes and trains blocks.');
      return null;
    }
    if (!a.layout || !a.canonicalExpansion) {
      notes.push(`${vscode.workspace.asRelativePath(doc.uri)}: the expansion cannot be laid out yet (check the plan's errors).`);
      return null;
    }
    return planOverlay(a.layout, { planFile: doc.uri.fsPath, expand: a.canonicalExpansion, init: a.init });
  }

  private async readFile(uri: vscode.Uri): Promise<ImportanceFile> {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    return validateImportanceFile(JSON.parse(text));
  }

  private async findImportance(notes: string[]): Promise<Found | null> {
    const chosen = this.memento.get<string>(CHOSEN_KEY);
    if (chosen) {
      try {
        return { file: await this.readFile(vscode.Uri.parse(chosen)), source: vscode.Uri.parse(chosen).fsPath, picked: true };
      } catch (e) {
        notes.push(`Could not read ${vscode.Uri.parse(chosen).fsPath}: ${(e as Error).message}`);
      }
    }
    const artifacts = await vscode.workspace.findFiles(ARTIFACT_GLOB, '**/node_modules/**', 50);
    const dated = await Promise.all(artifacts.map(async (u) => ({ u, mtime: (await vscode.workspace.fs.stat(u)).mtime })));
    for (const { u } of dated.sort((x, y) => y.mtime - x.mtime)) {
      try {
        // …/.slayer/runs/<run id>/out/importance.json
        const runId = /[/\\]\.slayer[/\\]runs[/\\]([^/\\]+)[/\\]/.exec(u.fsPath)?.[1];
        return { file: await this.readFile(u), source: vscode.workspace.asRelativePath(u), picked: false, runId };
      } catch (e) {
        notes.push(`${vscode.workspace.asRelativePath(u)}: ${(e as Error).message}`);
      }
    }
    return this.fromEvents();
  }

  /** Importance a run streamed as events (before its artifacts are fetched). */
  private fromEvents(): Found | null {
    for (const r of this.registry.list().slice(0, 10)) {
      const got = importanceFromEvents(r.label, this.registry.events(r.id));
      if (!got) continue;
      const missing = got.missing.length ? ` (not measured: ${got.missing.join(', ')})` : '';
      return { file: got.file, source: `run ${r.id}, from its streamed events${missing}; fetch its artifacts for the calibration details`, picked: false, runId: r.id };
    }
    return null;
  }

  async onMessage(m: Parameters<ViewController['onMessage']>[0]): Promise<void> {
    if (m.type === 'startRun') {
      await vscode.commands.executeCommand(COMMANDS.runExpansion, this.plans.document?.uri);
    } else if (m.type === 'openImportanceFile') {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'importance.json': ['json'] }, openLabel: 'Show importance' });
      if (!picked?.[0]) return;
      let file: ImportanceFile;
      try {
        file = await this.readFile(picked[0]);
      } catch (e) {
        this.host.post({ type: 'notice', level: 'error', message: `${picked[0].fsPath}: ${(e as Error).message}` });
        return;
      }
      await this.memento.update(CHOSEN_KEY, picked[0].toString());
      // What findImportance would now find first: the chosen file, read and validated just above.
      this.found = { hit: { file, source: picked[0].fsPath, picked: true }, notes: [] };
      await this.refresh();
    } else if (m.type === 'clearImportanceFile') {
      await this.memento.update(CHOSEN_KEY, undefined);
      this.found = undefined;
      await this.refresh();
    } else if (m.type === 'addBlock') {
      await this.addBlock(m.afterBlock);
    } else if (m.type === 'computeSimilarity') {
      await this.computeSimilarity();
    } else if (m.type === 'suggestExpansion') {
      await this.suggest();
    } else if (m.type === 'applySuggestion') {
      await this.applySuggestion();
    } else if (m.type === 'discardSuggestion') {
      this.suggestion = null;
      await this.refresh();
    }
  }

  /** Reads every block's weights once (streamed; minutes for an 8B model), with progress and cancel. */
  private async computeSimilarity(): Promise<void> {
    const doc = this.plans.document;
    const ckpt = doc ? localCheckpointOf(analyzeDocument(doc)) : { why: 'open a .slayer plan first' };
    if ('why' in ckpt) {
      this.host.post({ type: 'notice', level: 'error', message: `Cannot compute weight similarity: ${ckpt.why}.` });
      return;
    }
    if (this.similarityBusy) return;
    this.similarityBusy = true;
    try {
      this.similarity = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `SLayer: weight similarity of ${ckpt.dir}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          const started = Date.now();
          let last = 0;
          try {
            return await computeWeightSimilarity(ckpt.dir, {
              signal: abort.signal,
              onProgress: (done, total) => {
                const pct = total > 0 ? (100 * done) / total : 0;
                const eta = done > 0 ? ((Date.now() - started) / done) * (total - done) / 1000 : null;
                progress.report({ increment: pct - last, message: `${Math.floor(pct)}%${eta !== null ? ` · ETA ${Math.round(eta)} s` : ''}` });
                last = pct;
              },
            });
          } finally {
            sub.dispose();
          }
        });
      await this.refresh();
    } catch (e) {
      this.host.post({ type: 'notice', level: 'error', message: `Weight similarity: ${(e as Error).message}` });
    } finally {
      this.similarityBusy = false;
    }
  }

  private async addBlock(after: number): Promise<void> {
    const doc = this.plans.document;
    if (!doc) {
      this.host.post({ type: 'notice', level: 'error', message: 'Open a .slayer plan first.' });
      return;
    }
    const a = analyzeDocument(doc);
    const depth = a.model?.shape?.numLayers ?? a.layout?.baseLayers;
    if (!depth) {
      this.host.post({ type: 'notice', level: 'error', message: 'The plan\'s model is not known yet, so its depth is not either.' });
      return;
    }
    const r = insertBlockAfter(doc.getText(), after, depth);
    if (!r.ok) {
      this.host.post({ type: 'notice', level: 'error', message: `Cannot add a block after block ${after}: ${r.reason}.` });
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(r.span.start), doc.positionAt(r.span.end)), r.expand);
    const applied = await vscode.workspace.applyEdit(edit);
    this.host.post(applied
      ? { type: 'notice', level: 'info', message: `expand ${r.before} → ${r.expand}` }
      : { type: 'notice', level: 'error', message: 'The edit was not applied (is the plan read-only?).' });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
