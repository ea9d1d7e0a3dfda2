// Run commands: Run Expansion (compile, doctor, upload, launch, register), cancel, re-attach,
// open the log, fetch artifacts, delete a run directory. Dispatch needs a trusted workspace.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol/commands';
import { validateLayerMap, type LayerMap } from '../../protocol/layerMap';
import { buildRunConfig } from '../../remote/runConfigBuilder';
import type { RunPhase } from '../../protocol/runConfig';
import { runLabel } from '../../remote/runLabel';
import { cleanRunName } from '../../remote/runIdentity';
import { DoctorError, type DispatchStep } from '../../remote/runService';
import { runDisplayName, type RunRecord } from '../../remote/runStore';
import { configuredHosts, defaultHost, isKnownHost, runChoices, settingsFor } from './hostConfiguration';
import { addHost, openHostSettings } from './hostCommands';
import { modelHasMeasurement, normalizePhases, pickPhases } from './runPhases';
import type { CommandHandlers } from '../commands';
import type { RunOutputs } from './runOutputs';
import type { RunRegistry } from './runRegistry';

/** The secret storage key of the Hugging Face token (Run Expansion and Run Sweep read it). */
export const HF_TOKEN_KEY = 'slayer.huggingFaceToken';

/** Tree items pass their run id; the command palette asks. */
type RunArg = string | { run?: RunRecord } | undefined;

/** Arguments of `slayer.runExpansion` after the plan's URI (refusal actions, tests). */
export interface RunExpansionOptions {
  host?: string;
  phases?: RunPhase[];
  /** Random weights of the plan's shape for this run (as `run on HOST weights random` asks). */
  tinyModel?: boolean;
  /** Show the host picker even when the plan names a configured host. */
  pickHost?: boolean;
}

export type RunCommandKey = 'runExpansion' | 'runExpansionOn' | 'resumeRun' | 'renameRun' | 'cancelRun' | 'reattachRun' | 'openRemoteLog' | 'fetchArtifacts' | 'deleteRun' | 'setHuggingFaceToken';

export function runCommands(context: vscode.ExtensionContext, registry: RunRegistry, outputs: RunOutputs): Pick<CommandHandlers, RunCommandKey> {
  const pickRun = async (arg: RunArg, filter: (r: RunRecord) => boolean, placeHolder: string): Promise<RunRecord | undefined> => {
    const id = typeof arg === 'string' ? arg : arg?.run?.id;
    if (id) return registry.get(id);
    const runs = registry.list().filter(filter);
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('SLayer: no matching runs.');
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(runs.map((r) => ({ label: runDisplayName(r), description: `${r.host} · ${r.state} · ${r.label}`, detail: r.id, run: r })), { placeHolder });
    return pick?.run;
  };
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);

  /**
   * Run Expansion: the plan's `run on HOST` is the target (asked only when the plan names none and
   * several hosts are configured, when its host is unknown, or for "Run Expansion on Host…");
   * the phases are picked per run. `options` lets the refusal's actions and tests skip pickers.
   */
  async function runExpansion(uri: vscode.Uri | undefined, options: RunExpansionOptions): Promise<RunRecord | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('SLayer: dispatching runs is disabled in an untrusted workspace. Trust the workspace to run plans on hosts.');
      return undefined;
    }
    let host: string | undefined;
    let phases: RunPhase[] | undefined;
    try {
      const { layerMap, planFile } = await compileActivePlan(uri);
      host = options.host ?? await chooseHost(layerMap, options.pickHost ?? false);
      if (!host) return undefined;
      const measured = modelHasMeasurement(layerMap.plan.model, registry.list(), (id) => registry.events(id).some((e) => e.kind === 'importance'));
      phases = options.phases ? normalizePhases(options.phases) : await pickPhases(context.workspaceState, planFile, measured, layerMap.evaluation !== undefined && layerMap.evaluation !== null);
      if (!phases) return undefined;
      const settings = settingsFor(host);
      const token = await context.secrets.get(HF_TOKEN_KEY);
      const choices = runChoices();
      const target = host;
      const chosen = phases;
      const record = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `SLayer: ${layerMap.plan.expand} on ${target}`, cancellable: false },
        async (progress) => {
          const pct: Record<DispatchStep, number> = { pack: 10, upload: 40, doctor: 30, launch: 20 };
          return registry.service.dispatch({
            host: target, layerMap, planFile, label: runLabel(layerMap, planFile ?? null),
            runConfig: buildRunConfig(layerMap, settings, { ...choices, tinyModel: choices.tinyModel || (options.tinyModel ?? false), phases: chosen }),
            secrets: token ? { HF_TOKEN: token } : {},
            onStep: (step, detail) => progress.report({ message: detail, increment: pct[step] }),
          });
        });
      registry.attach(record.id);
      outputs.show(record.id);
      return record;
    } catch (e) {
      // The actions run the same plan again, on the same host with the same phases.
      if (e instanceof DoctorError) void onRefusal(e, (over) => runExpansion(uri, { ...options, host, phases, ...over }));
      else fail(e);
      return undefined;
    } finally {
      registry.fireChanged();
    }
  }

  /**
   * A refused run is a failed run: its channel shows the doctor's report, and the notification
   * offers what fixes the problems it names (then runs again).
   */
  async function onRefusal(e: DoctorError, again: (over: RunExpansionOptions) => Promise<unknown>): Promise<void> {
    registry.fireChanged();
    if (e.runId) outputs.show(e.runId);
    const rec = e.runId ? registry.get(e.runId) : undefined;
    const text = e.problems.join(' ');
    const PYTHON = 'Choose Python Interpreter…';
    const SETTINGS = 'Open Host Settings';
    const RANDOM = 'Use Random Weights for This Run';
    const actions: string[] = [];
    if (/torch|python|interpreter|not found|No such file|activate/i.test(text)) actions.push(PYTHON);
    if (/no weights|not a directory|not a local directory|config\.json/i.test(text)) actions.push(RANDOM);
    actions.push(SETTINGS);
    const who = rec ? `${runDisplayName(rec)} failed` : 'the run failed';
    const pick = await vscode.window.showErrorMessage(`SLayer: ${who}: the doctor on ${e.host} refused it. ${e.problems.join(' · ')}`, ...actions);
    if (pick === PYTHON) {
      if (await vscode.commands.executeCommand<string | undefined>(COMMANDS.choosePython, e.host)) await again({});
    } else if (pick === RANDOM) await again({ tinyModel: true });
    else if (pick === SETTINGS) await openHostSettings();
  }

  /** The host a run goes to: the plan's, asked only when it cannot be decided without the user. */
  async function chooseHost(layerMap: LayerMap, alwaysAsk: boolean): Promise<string | undefined> {
    const planned = layerMap.run?.host ?? null;
    const known = planned !== null && isKnownHost(planned);
    const hosts = configuredHosts();
    if (planned && known && !alwaysAsk) return planned;
    if (!planned && hosts.length === 1 && !alwaysAsk) return hosts[0];
    const preferred = defaultHost();
    const others = [preferred, ...hosts.filter((h) => h !== preferred)].filter((h, i, a) => h !== planned && a.indexOf(h) === i);
    type Item = vscode.QuickPickItem & { host: string; add?: boolean };
    const items: Item[] = [];
    if (planned) {
      items.push(known
        ? { label: planned, description: 'the plan asks for this host (run on ' + planned + ')', host: planned }
        : { label: `$(add) Add ${planned}…`, description: 'the plan asks for this host; it is in neither slayer.hosts nor your ssh config', host: planned, add: true });
    }
    for (const h of others) items.push({ label: h, description: h === preferred ? 'slayer.defaultHost' : '', host: h });
    const pick = await vscode.window.showQuickPick(items, {
      placeHolder: planned ? `The plan says "run on ${planned}"${known ? '' : ', a host that is not configured'}: run the expansion where?` : 'Run the expansion on which host?',
    });
    if (!pick) return undefined;
    if (pick.add) return addHost(pick.host);
    return pick.host;
  }

  const resumeRun = async (arg: RunArg) => {
    const r = await pickRun(arg, (x) => x.state === 'cancelled' || x.state === 'failed', 'Resume which run (from its latest checkpoint)?');
    if (!r) return;
    if (!vscode.workspace.isTrusted) return;
    try {
      const token = await context.secrets.get(HF_TOKEN_KEY);
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SLayer: resuming ${runDisplayName(r)}` },
        () => registry.service.resume(r.id, token ? { HF_TOKEN: token } : {}));
      registry.attach(r.id);
      outputs.show(r.id);
      outputs.note(r.id, 'resumed from its latest checkpoint');
    } catch (e) {
      fail(e);
    } finally {
      registry.fireChanged();
    }
  };

  const renameRun = async (arg: RunArg) => {
    const r = await pickRun(arg, () => true, 'Rename which run?');
    if (!r) return;
    const name = await vscode.window.showInputBox({ prompt: `New name for ${runDisplayName(r)} (${r.id})`, value: runDisplayName(r), validateInput: (v) => (cleanRunName(v) ? null : 'a name cannot be empty') });
    if (name === undefined) return;
    try {
      registry.service.rename(r.id, name);
      registry.fireChanged();
    } catch (e) {
      fail(e);
    }
  };

  const cancelRun = async (arg: RunArg) => {
    const r = await pickRun(arg, (x) => ['queued', 'running', 'uploading'].includes(x.state), 'Cancel which run?');
    if (!r) return;
    try {
      const msg = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `SLayer: cancelling ${runDisplayName(r)}` },
        () => registry.service.cancel(r.id));
      void vscode.window.showInformationMessage(`SLayer: ${runDisplayName(r)}: ${msg}`);
    } catch (e) {
      fail(e);
    }
  };

  const reattachRun = async (arg: RunArg) => {
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
  };

  const openRemoteLog = async (arg: RunArg) => {
    const r = await pickRun(arg, () => true, 'Open the log of which run?');
    if (r) outputs.show(r.id);
  };

  const fetchArtifacts = async (arg: RunArg) => {
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
  };

  const deleteRun = async (arg: RunArg) => {
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
  };

  const setHuggingFaceToken = async () => {
    const token = await vscode.window.showInputBox({ prompt: 'Hugging Face token for runs (kept in the OS keychain; sent to hosts on stdin only)', password: true, ignoreFocusOut: true });
    if (token === undefined) return;
    if (token === '') await context.secrets.delete(HF_TOKEN_KEY);
    else await context.secrets.store(HF_TOKEN_KEY, token);
  };

  return {
    runExpansion: (uri?: vscode.Uri, options?: RunExpansionOptions) => runExpansion(uri, options ?? {}),
    runExpansionOn: (uri?: vscode.Uri) => runExpansion(uri, { pickHost: true }),
    resumeRun, renameRun, cancelRun, reattachRun, openRemoteLog, fetchArtifacts, deleteRun, setHuggingFaceToken,
  };
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
    if (!commands.includes(COMMANDS.compilePlan)) throw new Error(`the plan compiler (${COMMANDS.compilePlan}) is not available in this build`);
    const compiled = await vscode.commands.executeCommand<unknown>(COMMANDS.compilePlan, doc.uri);
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
