// The webview feature: commands that open (or reveal) each panel, and a serializer per view type
// so panels come back after the editor restarts (`onWebviewPanel:` activation events).
import * as vscode from 'vscode';
import { COMMANDS, type CommandKey } from '../../protocol/commands';
import { VIEW_KINDS, VIEW_TYPES, type ViewKind } from '../../messages/webviewMessages';
import type { CommandHandlers } from '../commands';
import type { RunRegistry } from '../runs/runRegistry';
import { CurvesController } from './curvesPanel';
import { EvaluationController } from './evaluationPanel';
import { ImportanceController } from './importancePanel';
import { LayerMapController } from './layerMapPanel';
import { PanelHost, type ViewController } from './panelHost';
import { PlanSource } from './planSource';

const TITLES: Record<ViewKind, string> = {
  importance: 'SLayer: Layer Importance',
  layerMap: 'SLayer: Layer Map',
  curves: 'SLayer: Training Curves',
  evaluation: 'SLayer: Evaluation',
};
const SHOW_COMMANDS = {
  importance: 'showImportance',
  layerMap: 'showLayerMap',
  curves: 'showTrainingCurves',
  evaluation: 'showEvaluation',
} as const satisfies Record<ViewKind, CommandKey>;

type ViewCommandKey = (typeof SHOW_COMMANDS)[ViewKind] | 'compareRuns' | 'suggestExpansion';

/** Panels, their serializers, and the handlers of the commands that open them. */
export function registerWebviews(context: vscode.ExtensionContext, registry: RunRegistry, log: vscode.LogOutputChannel): Pick<CommandHandlers, ViewCommandKey> {
  const plans = new PlanSource();
  const open = new Map<ViewKind, { host: PanelHost; controller: ViewController }>();
  context.subscriptions.push(plans, { dispose: () => { for (const p of open.values()) p.host.dispose(); } });

  const adopt = (kind: ViewKind, panel: vscode.WebviewPanel): { host: PanelHost; controller: ViewController } => {
    const host = new PanelHost(kind, panel, context.extensionUri, log);
    const controller: ViewController = kind === 'curves' ? new CurvesController(host, registry)
      : kind === 'evaluation' ? new EvaluationController(host, registry)
      : kind === 'importance' ? new ImportanceController(host, registry, plans, context.workspaceState)
        : new LayerMapController(host, plans);
    host.attach(controller);
    const entry = { host, controller };
    open.set(kind, entry);
    host.onDidDispose(() => {
      if (open.get(kind) === entry) open.delete(kind);
    });
    return entry;
  };

  const show = (kind: ViewKind): { host: PanelHost; controller: ViewController } => {
    const existing = open.get(kind);
    if (existing) {
      existing.host.panel.reveal(undefined, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPES[kind], TITLES[kind], { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
    });
    return adopt(kind, panel);
  };

  for (const kind of VIEW_KINDS) {
    context.subscriptions.push(vscode.window.registerWebviewPanelSerializer(VIEW_TYPES[kind], {
      // The view's own state (getState) comes back inside the page; the host only re-attaches.
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
        adopt(kind, panel);
      },
    }));
  }
  // The language server's code lenses pass the plan's URI (a string); the palette passes nothing.
  const showForPlan = async (kind: ViewKind, arg?: string | vscode.Uri): Promise<void> => {
    if (arg) {
      try {
        plans.use(await vscode.workspace.openTextDocument(typeof arg === 'string' ? vscode.Uri.parse(arg) : arg));
      } catch (e) {
        log.warn(`${COMMANDS[SHOW_COMMANDS[kind]]}: cannot open ${String(arg)}: ${(e as Error).message}`);
      }
    }
    show(kind);
  };
  return {
    showImportance: (arg?: string | vscode.Uri) => showForPlan('importance', arg),
    showLayerMap: (arg?: string | vscode.Uri) => showForPlan('layerMap', arg),
    showTrainingCurves: (arg?: string | { run?: { id: string } }) => {
      const { controller } = show('curves');
      const runId = typeof arg === 'string' ? arg : arg?.run?.id ?? null;
      if (runId && controller instanceof CurvesController) controller.reveal(runId);
    },
    // From a run's context menu (the run, or every selected run: "Compare Runs"), or the palette.
    showEvaluation: (arg?: string | { run?: { id: string } }, selected?: { run?: { id: string } }[]) => {
      const { controller } = show('evaluation');
      const ids = (selected?.length ? selected.map((s) => s.run?.id) : [typeof arg === 'string' ? arg : arg?.run?.id]).filter((x): x is string => !!x);
      if (controller instanceof EvaluationController) controller.reveal(ids);
    },
    // SLayer: Suggest Expansion… — the importance view shows the measurement and previews the suggestion.
    suggestExpansion: async (arg?: string | vscode.Uri) => {
      await showForPlan('importance', arg);
      const { controller } = show('importance');
      if (controller instanceof ImportanceController) await controller.suggest();
    },
    compareRuns: (arg?: { run?: { id: string } }, selected?: { run?: { id: string } }[]) =>
      vscode.commands.executeCommand(COMMANDS.showEvaluation, arg, selected),
  };
}
