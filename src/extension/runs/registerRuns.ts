// The Runs feature: registry (persisted in global storage), tree view, status bar, output
// channels, commands. Returns the registry so other features (live curves) can subscribe.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { RunService } from '../../remote/runService';
import { RunStore } from '../../remote/runStore';
import { settingId } from '../../protocol/settings';
import { TransportPool } from '../../remote/transportFactory';
import { settingsFor, sshConfigFile } from './hostConfiguration';
import type { CommandHandlers } from '../commands';
import { runCommands, type RunCommandKey } from './runCommands';
import { RunOutputs } from './runOutputs';
import { RunRegistry } from './runRegistry';
import { RunStatusBar } from './runStatusBar';
import { registerRunNotices } from './runNotices';
import { RunColorDecorations, RunsTreeProvider } from './runsTreeView';
import { sweepCommands, type SweepCommandKey } from './sweepCommands';

export interface RunsFeature {
  registry: RunRegistry;
  commands: Pick<CommandHandlers, RunCommandKey | SweepCommandKey | 'openRunReport'>;
}

export function registerRuns(context: vscode.ExtensionContext): RunsFeature {
  const store = new RunStore(join(context.globalStorageUri.fsPath, 'runs'));
  const pool = new TransportPool(settingsFor, sshConfigFile());
  const service = new RunService(store, {
    runnerDir: join(context.extensionPath, 'runner', 'slayer_runner'),
    transportFor: (host) => pool.get(host),
    settingsFor,
  });
  const registry = new RunRegistry(service);
  const outputs = new RunOutputs(registry);
  const tree = new RunsTreeProvider(registry);
  context.subscriptions.push(
    registry, outputs, tree, new RunStatusBar(registry),
    vscode.window.registerFileDecorationProvider(new RunColorDecorations(registry)),
    vscode.window.createTreeView('slayer.runs', { treeDataProvider: tree, showCollapseAll: false, canSelectMany: true }),
    { dispose: () => void pool.closeAll() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(settingId('hosts'))) registry.fireChanged();
    }),
  );
  const commands = { ...runCommands(context, registry, outputs), ...sweepCommands(context, registry, outputs), ...registerRunNotices(context, registry) };
  // After a reload (or a crash), live runs stream again and get their channels back; the newest shows.
  const live = registry.attachUnfinished();
  live.forEach((r, i) => outputs.show(r.id, i === 0));
  return { registry, commands };
}
