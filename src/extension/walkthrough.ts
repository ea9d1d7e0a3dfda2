// The "Get started" walkthrough's one command of its own: `slayer.openDemoPlan` copies the demo
// plan that ships with the extension (examples/demo.slayer and the tiny model's config.json) into
// the workspace folder, under slayer-demo/, and opens it — runs write next to the plan, so it must
// live in the user's folder, not in the extension's. An existing copy is opened, never overwritten.
import * as vscode from 'vscode';
import type { CommandHandlers } from './commands';

const DEMO_FILES = ['demo.slayer', 'tiny-llama/config.json'];
const TARGET = 'slayer-demo';

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

export async function openDemoPlan(context: vscode.ExtensionContext): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    const pick = await vscode.window.showInformationMessage('Open a folder first: the demo plan and its runs are kept in your workspace folder.', 'Open Folder…');
    if (pick) await vscode.commands.executeCommand('workbench.action.files.openFolder');
    return undefined;
  }
  const source = vscode.Uri.joinPath(context.extensionUri, 'examples');
  const target = vscode.Uri.joinPath(folder.uri, TARGET);
  const plan = vscode.Uri.joinPath(target, 'demo.slayer');
  if (!(await exists(plan))) {
    for (const f of DEMO_FILES) await vscode.workspace.fs.copy(vscode.Uri.joinPath(source, f), vscode.Uri.joinPath(target, f), { overwrite: false });
    void vscode.window.showInformationMessage(`SLayer: copied the demo plan to ${TARGET}/ in ${folder.name}.`);
  }
  await vscode.window.showTextDocument(plan);
  return plan;
}

export function walkthroughCommands(context: vscode.ExtensionContext): Pick<CommandHandlers, 'openDemoPlan'> {
  return { openDemoPlan: () => openDemoPlan(context) };
}
