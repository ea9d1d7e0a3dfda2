// Extension entry: activation wires each feature's own module; nothing else lives here.
// Each feature exports `register(context)` and owns its commands, views and disposables.
import * as vscode from 'vscode';
import { registerLanguageClient } from './languageClient';
import { registerPlanCommands } from './planCommands';
import { registerRuns } from './runs/registerRuns';
import { registerWalkthrough } from './walkthrough';
import { registerWebviews } from './webviews/registerWebviews';
import type { RunRegistry } from './runs/runRegistry';

/** What activate() returns: the live run registry, for other extensions and the in-editor tests. */
export interface SlayerStudioApi {
  readonly runs: RunRegistry;
}

export async function activate(context: vscode.ExtensionContext): Promise<SlayerStudioApi> {
  const output = vscode.window.createOutputChannel('SLayer Studio', { log: true });
  context.subscriptions.push(output);
  output.info(`SLayer Studio ${String(context.extension.packageJSON.version)} activated`);
  registerPlanCommands(context);
  const runs = registerRuns(context);
  registerWebviews(context, runs, output);
  registerWalkthrough(context);
  // The language server does not hold up activation; a failure to start is logged.
  registerLanguageClient(context, output).catch((e: unknown) => output.error(`language server: ${e instanceof Error ? e.message : String(e)}`));
  return { runs };
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
