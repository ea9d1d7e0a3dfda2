// Run commands: Run Expansion (compile, doctor, upload, launch, register), cancel, re-attach,
// open the log, fetch artifacts, delete a run directory. Dispatch needs a trusted workspace.
import * as vscode from 'vscode';
import { validateLayerMap, type LayerMap } from '../../protocol/layerMap';
import { buildRunConfig } from '../../remote/runConfigBuilder';
import { runLabel } from '../../remote/runLabel';
import { DoctorError, type DispatchStep } from '../../remote/runService';
import type { RunRecord } from '../../remote/runStore';
import { configuredHosts, defaultHost, runChoices, settingsFor } from './hostConfiguration';
import type { RunOutputs } from './runOutputs';
import type { RunRegistry } from './runRegistry';

const HF_TOKEN_KEY = 'slayer.huggingFaceToken';

/** Tree items pass their run id; the command palette asks. */
type RunArg = string | { run?: RunRecord } | undefined;

export function registerRunCommands(context: vscode.ExtensionContext, registry: RunRegistry, outputs: RunOutputs): void {
  const pickRun = async (arg: RunArg, filter: (r: RunRecord) => boolean, placeHolder: string): Promise<RunRecord | undefined> => {
    const id = typeof arg === 'string' ? arg : arg?.run?.id;
    if (id) return registry.get(id);
    const runs = registry.list().filter(filter);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('SLayer: no matching runs.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(runs.map((r) => ({ label: r.label, description: `${r.host} · ${r.state}`, detail: r.id, run: r })), { placeHolder });
    return pick?.run;
  };
  const reg = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);

  reg('slayer.runExpansion', async (uri?: vscode.Uri) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('SLayer: dispatching runs is disabled in an untrusted workspace. Trust the workspace to run plans on hosts.');
      return;
    }
    try {
      const { layerMap, planFile } = await compileActivePlan(uri);
      const hosts = configuredHosts();
      const preferred = defaultHost();
      const host = hosts.length === 1 ? hosts[0]! : await vscode.window.showQuickPick(
        [preferred, ...hosts.filter((h) => h !== preferred)], { placeHolder: 'Run the expansion on which host?' });
      if (!host) return;
      const settings = settingsFor(host);
      const token = await context.secrets.get(HF_TOKEN_KEY);
      const record = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `SLayer: ${layerMap.plan.expand} on ${host}`, cancellable: false },
        async (progress) => {
          const pct: Record<DispatchStep, number> = { pack: 10, upload: 40, doctor: 30, launch: 20 };
          return registry.service.dispatch({
            host, layerMap, planFile, label: runLabel(layerMap, planFile ?? null),
            runConfig: buildRunConfig(layerMap, settings, runChoices()),
            secrets: token ? { HF_TOKEN: token } : {},
            onStep: (step, detail) => progress.report({ message: detail, increment: pct[step] }),
          });
        });
      registry.attach(record.id);
      outputs.show(record.id);
    } catch (e) {
      if (e instanceof DoctorError) {
        void vscode.window.showErrorMessage(`SLayer: the plan cannot run on ${e.host}`, { modal: true, detail: e.report });
      } else fail(e);
    } finally {
      registry.fireChanged();
    }
  });

  reg('slayer.cancelRun', async (arg: RunArg) => {
    const r = await pickRun(arg, (x) => ['queued', 'running', 'uploading'].includes(x.state), 'Cancel which run?');
    if (!r) return;
    try {
      const msg = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SLayer: cancelling ${r.label}` },
        () => registry.service.cancel(r.id));
      void vscode.window.showInformationMessage(`SLayer: ${r.label}: ${msg}`);
    } catch (e) {
      fail(e);
    }
  });

  reg('slayer.reattachRun', async (arg: RunArg) => {
    let r: RunRecord | undefined;
    if (arg) r = await pickRun(arg, () => true, 'Re-attach to which run?');
    else {
      // Known runs, or runs found in a host's work directory (started from another machine).
      const FIND = '$(search) Find runs on a host…';
      const pick = await vscode.window.showQuickPick(
        [...registry.list().map((x) => ({ label: x.label, description: `${x.host} · ${x.state}`, detail: x.id })), { label: FIND, description: '', detail: '' }],
        { placeHolder: 'Re-attach to which run?' });
      if (!pick) return;
      if (pick.label !== FIND) r = registry.get(pick.detail);
      else {
        if (!vscode.workspace.isTrusted) return;
        const host = await vscode.window.showQuickPick(configuredHosts(), { placeHolder: 'Which host?' });
        if (!host) return;
        try {
          const ids = (await registry.service.listRemote(host)).filter((id) => !registry.get(id));
          const id = await vscode.window.showQuickPick(ids, { placeHolder: ids.length ? `Runs in ${settingsFor(host).workDir} on ${host}` : 'no other runs there' });
          if (id) r = await registry.service.adopt(host, id);
        } catch (e) {
          fail(e);
          return;
        }
      }
    }
    if (r) {
      registry.reattach(r.id);
      outputs.show(r.id);
    }
  });

  reg('slayer.openRemoteLog', async (arg: RunArg) => {
    const r = await pickRun(arg, () => true, 'Open the log of which run?');
    if (r) outputs.show(r.id);
  });

  reg('slayer.fetchArtifacts', async (arg: RunArg) => {
    const r = await pickRun(arg, () => true, 'Fetch the artifacts of which run?');
    if (!r) return;
    const base = vscode.workspace.workspaceFolders?.[0]?.uri;
    const dest = base ? vscode.Uri.joinPath(base, '.slayer', 'runs', r.id) : vscode.Uri.joinPath(context.globalStorageUri, 'artifacts', r.id);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SLayer: fetching artifacts of ${r.label}` },
        () => registry.service.fetchArtifacts(r.id, dest.fsPath));
      const open = await vscode.window.showInformationMessage(`SLayer: artifacts of ${r.label} are in ${dest.fsPath}`, 'Reveal');
      if (open) await vscode.commands.executeCommand('revealFileInOS', dest);
    } catch (e) {
      fail(e);
    }
  });

  reg('slayer.deleteRun', async (arg: RunArg) => {
    const r = await pickRun(arg, () => true, 'Delete which run directory?');
    if (!r) return;
    const yes = await vscode.window.showWarningMessage(
      `Delete the run directory of "${r.label}" on ${r.host}?`, { modal: true, detail: `${r.remoteDir} and everything in it (checkpoints included) will be removed.` }, 'Delete');
    if (yes !== 'Delete') return;
    try {
      await registry.remove(r.id);
      outputs.dispose(r.id);
    } catch (e) {
      fail(e);
    }
  });

  reg('slayer.setHuggingFaceToken', async () => {
    const token = await vscode.window.showInputBox({ prompt: 'Hugging Face token for runs (kept in the OS keychain; sent to hosts on stdin only)', password: true, ignoreFocusOut: true });
    if (token === undefined) return;
    if (token === '') await context.secrets.delete(HF_TOKEN_KEY);
    else await context.secrets.store(HF_TOKEN_KEY, token);
  });
}

/**
 * The compiled plan of the active editor: a `.slayer` plan goes through the plan compiler's
 * `slayer.compilePlan` command (returns a LayerMap); a LayerMap JSON document is used as it is.
 */
async function compileActivePlan(uri?: vscode.Uri): Promise<{ layerMap: LayerMap; planFile: string | null }> {
  const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!doc) throw new Error('open a plan (.slayer) first');
  if (doc.languageId === 'slayer') {
    const commands = await vscode.commands.getCommands(true);
    if (!commands.includes('slayer.compilePlan')) throw new Error('the plan compiler (slayer.compilePlan) is not available in this build');
    const compiled = await vscode.commands.executeCommand<unknown>('slayer.compilePlan', doc.uri);
    return { layerMap: validateLayerMap(compiled), planFile: doc.uri.fsPath };
  }
  let json: unknown;
  try {
    json = JSON.parse(doc.getText());
  } catch {
    throw new Error(`${doc.fileName} is neither a .slayer plan nor a LayerMap JSON file`);
  }
  return { layerMap: validateLayerMap(json), planFile: doc.uri.fsPath };
}
