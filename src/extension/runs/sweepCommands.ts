// Sweep commands: Run Sweep (the plan's sweep section as one group of runs), and on a sweep in
// the Runs view: its curves overlaid, its runs in the Evaluation view, its table exported as
// Markdown or CSV. Dispatch needs a trusted workspace, like Run Expansion.
import * as vscode from 'vscode';
import { COMMANDS } from '../../protocol/commands';
import type { CommandHandlers } from '../commands';
import { writeFileSync } from 'node:fs';
import { findStatement } from '../../core';
import { buildRunConfig } from '../../remote/runConfigBuilder';
import { isFinal } from '../../remote/runStatus';
import type { RunRecord } from '../../remote/runStore';
import type { SweepGroup } from '../../remote/sweepGroups';
import { runSweep as dispatchSweep } from '../../remote/sweepRunner';
import { findSweep, listSweeps } from '../../remote/sweepStore';
import { buildSweepTable, renderSweepTable } from '../../report/sweepTable';
import { analyzeDocument } from '../planCommands';
import { configuredHosts, isKnownHost, runChoices, settingsFor } from './hostConfiguration';
import type { RunOutputs } from './runOutputs';
import type { RunRegistry } from './runRegistry';
import { HF_TOKEN_KEY } from './runCommands';


/** A sweep node of the Runs view passes itself; the palette passes nothing (asked), tests a sweep id. */
type SweepArg = string | { group?: SweepGroup } | undefined;

export type SweepCommandKey = 'runSweep' | 'showSweepCurves' | 'compareSweep' | 'exportSweepTable';

/** The handlers of the sweep commands (registered with every other command from the table). */
export function sweepCommands(context: vscode.ExtensionContext, registry: RunRegistry, outputs: RunOutputs): Pick<CommandHandlers, SweepCommandKey> {
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);
  const storeDir = () => registry.service.store.dir;

  const pickSweep = async (arg: SweepArg): Promise<{ id: string; name: string; runs: RunRecord[] } | undefined> => {
    const id = typeof arg === 'string' ? arg : arg?.group?.id;
    const sweeps = listSweeps(storeDir());
    const chosen = id ? sweeps.find((s) => s.id === id) : (await vscode.window.showQuickPick(
      sweeps.map((s) => ({ label: `sweep ${s.name}`, description: `${s.host} · ${s.variants.length} variants`, detail: s.id, s })), { placeHolder: 'Which sweep?' }))?.s;
    if (!chosen && !id) return undefined;
    const sweepId = chosen?.id ?? id!;
    const runs = registry.list().filter((r) => r.sweep?.id === sweepId).sort((a, b) => a.sweep!.index - b.sweep!.index);
    return { id: sweepId, name: chosen?.name ?? runs[0]?.sweep?.name ?? sweepId, runs };
  };

  const runSweep = async (uri?: vscode.Uri, options?: { host?: string }) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('SLayer: dispatching runs is disabled in an untrusted workspace. Trust the workspace to run sweeps.');
      return undefined;
    }
    try {
      const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
      if (!doc || doc.languageId !== 'slayer') throw new Error('open a plan (.slayer) with a sweep section first');
      const a = analyzeDocument(doc);
      const error = a.diagnostics.find((d) => d.severity === 'error');
      if (error) throw new Error(`the plan does not compile: ${doc.fileName}:${a.lines.positionAt(error.span.start).line + 1}: ${error.message}`);
      if (!a.sweep?.name || !a.sweep.variants.length) throw new Error('the plan has no sweep section: add "sweep NAME" and one indented line per variant');
      const planned = a.run?.host;
      const host = options?.host ?? (planned && isKnownHost(planned) ? planned : await vscode.window.showQuickPick(configuredHosts(), { placeHolder: `Run the ${a.sweep.variants.length} variants of sweep ${a.sweep.name} on which host?` }));
      if (!host) return undefined;
      const settings = settingsFor(host);
      const choices = runChoices();
      const token = await context.secrets.get(HF_TOKEN_KEY);
      const baseTrain = findStatement(a.ast, 'train')?.value.text || 'new, final';
      const name = a.sweep.name;
      const parallel = settings.scheduler === 'slurm';
      const variants = a.sweep.variants.map((v) => ({ name: v.name, layerMap: v.layerMap!, train: v.overrides.train ?? baseTrain, runConfig: buildRunConfig(v.layerMap!, settings, choices) }));
      const sweep = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `SLayer: sweep ${name} on ${host}`, cancellable: !parallel },
        (progress, cancel) => dispatchSweep(registry.service, {
          host, name, planFile: doc.uri.scheme === 'file' ? doc.uri.fsPath : null, variants, parallel,
          secrets: token ? { HF_TOKEN: token } : {},
          shouldContinue: () => !cancel.isCancellationRequested,
          onStep: (_variant, step, detail) => {
            if (step === 'start' || step === 'end') progress.report({ message: detail });
            registry.fireChanged();
          },
          follow: (rec) => {
            registry.attach(rec.id);
            outputs.show(rec.id, false);
            return untilFinal(registry, rec.id);
          },
        }));
      registry.fireChanged();
      const runs = sweep.variants.map((v) => (v.runId ? registry.get(v.runId) : undefined));
      const ok = runs.filter((r) => r?.state === 'succeeded').length;
      const failed = sweep.variants.filter((_, i) => runs[i]?.state !== 'succeeded').map((v) => v.name);
      const EXPORT = 'Export Table…';
      const CURVES = 'Compare Curves';
      const show = failed.length ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      const pick = await show(`SLayer: sweep ${name}: ${ok} of ${runs.length} variants succeeded${failed.length ? ` (not: ${failed.join(', ')})` : ''}`, EXPORT, CURVES);
      if (pick === EXPORT) await vscode.commands.executeCommand(COMMANDS.exportSweepTable, sweep.id);
      else if (pick === CURVES) await vscode.commands.executeCommand(COMMANDS.showSweepCurves, sweep.id);
      return sweep;
    } catch (e) {
      fail(e);
      return undefined;
    }
  };

  // The group's loss curves overlaid: each run revealed in the curves view in turn (each is added to its selection).
  const showSweepCurves = async (arg: SweepArg) => {
    const s = await pickSweep(arg);
    for (const r of s?.runs ?? []) await vscode.commands.executeCommand(COMMANDS.showTrainingCurves, r.id);
  };

  // The group in the Evaluation view: one row per variant, the base first.
  const compareSweep = async (arg: SweepArg) => {
    const s = await pickSweep(arg);
    if (s?.runs.length) await vscode.commands.executeCommand(COMMANDS.showEvaluation, undefined, s.runs.map((run) => ({ run })));
  };

  /** The sweep table as Markdown or CSV, written where the user says (the same text as `slayer sweep-table`). */
  const exportSweepTable = async (arg: SweepArg, format?: 'md' | 'csv', target?: vscode.Uri) => {
    const s = await pickSweep(arg);
    if (!s) return undefined;
    const record = findSweep(storeDir(), s.id);
    if (!record) {
      fail(new Error(`no record of sweep ${s.id} in this editor's run store`));
      return undefined;
    }
    const fmt = format ?? (await vscode.window.showQuickPick([{ label: 'Markdown', fmt: 'md' as const }, { label: 'CSV', fmt: 'csv' as const }], { placeHolder: `Export the table of sweep ${s.name} as…` }))?.fmt;
    if (!fmt) return undefined;
    const text = renderSweepTable(buildSweepTable(record, (id) => {
      const r = registry.get(id);
      return r ? { record: r, events: registry.events(id) } : undefined;
    }), fmt);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const uri = target ?? await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, `sweep-${record.name}.${fmt}`) : undefined,
      filters: fmt === 'md' ? { Markdown: ['md'] } : { CSV: ['csv'] },
    });
    if (!uri) return undefined;
    writeFileSync(uri.fsPath, text);
    void vscode.window.showInformationMessage(`SLayer: the table of sweep ${record.name} is in ${vscode.workspace.asRelativePath(uri)}`);
    return uri.fsPath;
  };
  return { runSweep, showSweepCurves, compareSweep, exportSweepTable };
}

/** Resolves when a run the registry follows reaches a final state. */
function untilFinal(registry: RunRegistry, runId: string): Promise<RunRecord> {
  const monitor = registry.service.isAttached(runId) ? registry.service.tryAttach(runId, {}) : null;
  if (monitor) return monitor.finished;
  // Streamed by another window: its record tells when it ends.
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      registry.service.store.reload();
      const r = registry.get(runId);
      if (!r || isFinal(r.state)) {
        clearInterval(timer);
        resolve(r!);
      }
    }, 2000);
  });
}
