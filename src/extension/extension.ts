// Extension entry: activation wires each feature's own module; nothing else lives here.
// Each feature owns its views and disposables and returns the handlers of its commands; the
// command table (./commands) registers them all in one loop.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerLanguageClient } from './languageClient';
import { planCommands } from './planCommands';
import { hostCommands } from './runs/hostCommands';
import { registerRuns } from './runs/registerRuns';
import { walkthroughCommands } from './walkthrough';
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
  const runs = registerRuns(context);
  const views = registerWebviews(context, runs.registry, output);
  registerCommands(context, { ...planCommands(), ...hostCommands(), ...runs.commands, ...views, ...walkthroughCommands(context) });
  // The language server does not hold up activation; a failure to start is logged.
  registerLanguageClient(context, output).catch((e: unknown) => output.error(`language server: ${e instanceof Error ? e.message : String(e)}`));
  return { runs: runs.registry };
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
