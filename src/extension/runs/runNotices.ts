// The word a run ends with: a notification with its result, final loss and duration, and the
// actions that follow a finished run (Open Curves, Open Report, Compare with the plan's previous
// run). "Open Report" writes the run's report (curves and importance as SVG, a summary) from the
// local mirror of its events and opens it in the Markdown preview.
import * as vscode from 'vscode';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRunReport, readRunDir } from '../../report/runReport';
import { runDisplayName, type RunRecord } from '../../remote/runStore';
import { endMessage } from '../../remote/runSummary';
import { COMMANDS } from '../../protocol/commands';
import type { CommandHandlers } from '../commands';
import type { RunRegistry } from './runRegistry';

const CURVES = 'Open Curves';
const REPORT = 'Open Report';
const COMPARE = 'Compare';
const RESUME = 'Resume';

export function registerRunNotices(context: vscode.ExtensionContext, registry: RunRegistry): Pick<CommandHandlers, 'openRunReport'> {
  context.subscriptions.push(registry.onDidEndRun((r) => void announce(registry, r)));
  return {
    openRunReport: async (arg?: string | { run?: RunRecord }) => {
      const id = typeof arg === 'string' ? arg : arg?.run?.id ?? registry.list()[0]?.id;
      if (id) await openReport(registry, id).catch((e: unknown) => vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`));
    },
  };
}

/** The plan's run before this one (what "Compare" puts next to it). */
export function previousRunOfPlan(runs: readonly RunRecord[], r: RunRecord): RunRecord | undefined {
  return runs.filter((x) => x.id !== r.id && x.planFile === r.planFile && x.createdAt < r.createdAt).sort((a, b) => b.createdAt - a.createdAt)[0];
}

async function announce(registry: RunRegistry, r: RunRecord): Promise<void> {
  registry.service.store.update(r.id, { endSeen: true }); // told here: no other window repeats it
  // A sweep ends with one notification of its own naming every variant; a variant that succeeded
  // adds nothing to it (six toasts for six variants buried the sweep's). Failures still speak up.
  if (r.sweep && r.state === 'succeeded') return;
  const text = `SLayer: ${endMessage(r, registry.events(r.id))}`;
  const previous = previousRunOfPlan(registry.list(), r);
  const actions = [CURVES, REPORT, ...(previous ? [COMPARE] : []), ...(r.state === 'cancelled' || r.state === 'failed' ? [RESUME] : [])];
  const show = r.state === 'succeeded' ? vscode.window.showInformationMessage : r.state === 'cancelled' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
  const pick = await show(text, ...actions);
  if (pick === CURVES) await vscode.commands.executeCommand(COMMANDS.showTrainingCurves, r.id);
  else if (pick === REPORT) await vscode.commands.executeCommand(COMMANDS.openRunReport, r.id);
  else if (pick === COMPARE && previous) {
    await vscode.commands.executeCommand(COMMANDS.showTrainingCurves, previous.id);
    await vscode.commands.executeCommand(COMMANDS.showTrainingCurves, r.id);
  } else if (pick === RESUME) await vscode.commands.executeCommand(COMMANDS.resumeRun, r.id);
}

async function openReport(registry: RunRegistry, runId: string): Promise<void> {
  const r = registry.get(runId);
  if (!r) throw new Error(`unknown run ${runId}`);
  const dir = registry.service.store.runDir(runId);
  const report = buildRunReport(readRunDir(dir), runDisplayName(r));
  const out = join(dir, 'report');
  mkdirSync(out, { recursive: true });
  for (const [name, body] of Object.entries(report.files)) writeFileSync(join(out, name), body);
  const svgs = Object.keys(report.files).filter((f) => f.endsWith('.svg'));
  const md = [
    `# ${runDisplayName(r)} — ${r.state}`, '', `${r.label} · ${r.host} · run ${r.id}`, '',
    '```', ...report.summary, '```', '', ...svgs.map((f) => `![${f}](${f})\n`),
  ].join('\n');
  const file = vscode.Uri.file(join(out, 'report.md'));
  writeFileSync(file.fsPath, md);
  await vscode.commands.executeCommand('markdown.showPreview', file);
}
