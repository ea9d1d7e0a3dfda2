// Shared by the in-editor suites (bundled into each): the extension and its API, the workspace's
// files, and polling waits.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SlayerStudioApi } from '../../../src/extension/extension';

export const EXTENSION_ID = 'slayer-studio.slayer-studio';

export function extension(): vscode.Extension<SlayerStudioApi> {
  const ext = vscode.extensions.getExtension<SlayerStudioApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this editor`);
  return ext;
}

/** Activates the extension (a no-op once active) and returns what activate() returned. */
export async function api(): Promise<SlayerStudioApi> {
  const ext = extension();
  const exported = await ext.activate();
  assert.ok(exported?.runs, 'activate() returned no run registry');
  return exported;
}

export function workspaceUri(...segments: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the editor has no workspace folder open');
  return vscode.Uri.joinPath(folder.uri, ...segments);
}

export async function openPlan(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceUri(name));
  return vscode.window.showTextDocument(doc);
}

export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
