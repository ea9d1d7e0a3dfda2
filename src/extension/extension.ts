// Extension entry: activation wires each feature's own module; nothing else lives here.
// Each feature exports `register(context)` and owns its commands, views and disposables.
import * as vscode from 'vscode';
import { registerPlanCommands } from './planCommands';
import { registerRuns } from './runs/registerRuns';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('SLayer Studio', { log: true });
  context.subscriptions.push(output);
  output.info(`SLayer Studio ${String(context.extension.packageJSON.version)} activated`);
  registerPlanCommands(context);
  registerRuns(context);
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
