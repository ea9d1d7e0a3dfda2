// Activation, contributions and the plan commands, asserted through the VS Code API.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../../src/protocol/commands';
import { api, extension, openPlan, waitFor, workspaceUri } from './helpers';

describe('activation and contributions', () => {
  it('stays inactive until a *.slayer file opens, then activates with the slayer language', async () => {
    const ext = extension();
    // Nothing in the fresh window uses the extension yet: activation must come from the plan.
    assert.equal(ext.isActive, false, 'active before any plan was opened');
    const editor = await openPlan('tiny.slayer');
    assert.equal(editor.document.languageId, 'slayer');
    await waitFor(() => ext.isActive, 20_000, 'activation on opening a .slayer file');
    const exported = await api();
    assert.ok(Array.isArray(exported.runs.list()), 'the exported run registry lists runs');
  });

  it('comments lines with # (the packaged language configuration)', async () => {
    const editor = await openPlan('tiny.slayer');
    const line = editor.document.getText().split('\n').findIndex((l) => l.startsWith('train'));
    editor.selection = new vscode.Selection(line, 0, line, 0);
    await vscode.commands.executeCommand('editor.action.commentLine');
    assert.match(editor.document.lineAt(line).text, /^# train\s+new/);
    await vscode.commands.executeCommand('editor.action.commentLine');
    assert.match(editor.document.lineAt(line).text, /^train\s+new/);
  });

  it('registers every command the manifest contributes, and every command of the table', async () => {
    await api();
    const contributed = (extension().packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
    assert.ok(contributed.length >= 8, `only ${contributed.length} commands contributed`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = [...contributed, ...Object.values(COMMANDS)].filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('slayer.compilePlan compiles the open plan to its LayerMap', async () => {
    await openPlan('tiny.slayer');
    const map = await vscode.commands.executeCommand<{ base: { numLayers: number }; result: { numLayers: number }; blocks: { role: string }[] }>(
      'slayer.compilePlan', workspaceUri('tiny.slayer'));
    assert.equal(map.base.numLayers, 4, 'the base shape comes from tiny/config.json next to the plan');
    assert.equal(map.result.numLayers, 5);
    assert.deepEqual(map.blocks.map((b) => b.role), ['kept', 'kept', 'new', 'kept', 'kept']);
  });

  it('slayer.compilePlan refuses a plan with errors, naming the line', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('slayer.compilePlan', workspaceUri('broken.slayer'))),
      (e: Error) => /does not compile/.test(e.message) && /broken\.slayer:4/.test(e.message));
  });

  it('slayer.explainPlan runs on the active plan and refuses a document that is not a plan', async () => {
    await openPlan('tiny.slayer');
    await vscode.commands.executeCommand('slayer.explainPlan');
    const json = await vscode.workspace.openTextDocument(workspaceUri('tiny', 'config.json'));
    await vscode.window.showTextDocument(json);
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('slayer.explainPlan')), /open a plan/);
  });
});
