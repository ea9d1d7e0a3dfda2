// The language server seen from the editor: diagnostics for a broken plan that vanish after the
// quick fix, hover and completion, through the packaged client and dist/server.js.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, openPlan, waitFor } from './helpers';

const errorsOf = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.severity === vscode.DiagnosticSeverity.Error);
const text = (c: vscode.MarkdownString | vscode.MarkedString) => (typeof c === 'string' ? c : c.value);

describe('language server', function () {
  this.timeout(60_000);

  it('reports the misspelt key of a broken plan, and the quick fix makes the error vanish', async () => {
    await api();
    const editor = await openPlan('broken.slayer');
    const uri = editor.document.uri;
    const [diag] = await waitFor(() => errorsOf(uri).length > 0 && errorsOf(uri), 30_000, 'diagnostics for broken.slayer');
    assert.equal(errorsOf(uri).length, 1, `expected one error, got: ${errorsOf(uri).map((d) => d.message).join(' | ')}`);
    assert.match(diag!.message, /unknown key "trian"/);
    assert.equal(diag!.range.start.line, 3, 'the error sits on the `trian` line');
    assert.equal(diag!.source !== undefined, true, 'the diagnostic names its source');

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, diag!.range);
    const fix = actions.find((a) => a.kind?.value === vscode.CodeActionKind.QuickFix.value && /train/.test(a.title) && a.edit);
    assert.ok(fix, `no quick fix offering "train"; offered: ${actions.map((a) => a.title).join(' | ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit!), 'the quick fix edit did not apply');
    assert.match(editor.document.lineAt(3).text, /^train\s+new/);
    await waitFor(() => errorsOf(uri).length === 0, 30_000, 'the error to vanish after the quick fix');
    assert.deepEqual(vscode.languages.getDiagnostics(uri).filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning).map((d) => d.message), []);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('answers hovers on the expansion', async () => {
    const editor = await openPlan('tiny.slayer');
    const n = editor.document.getText().split('\n').findIndex((l) => l.startsWith('expand'));
    const line = editor.document.lineAt(n);
    const pos = new vscode.Position(n, line.text.indexOf('(2+1)') + 1);
    const hovers = await waitFor(async () => {
      const h = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, pos);
      return h.length > 0 && h;
    }, 30_000, 'a hover on (2+1)');
    const body = hovers.flatMap((h) => h.contents.map(text)).join('\n');
    assert.match(body, /block/i, `hover text: ${body}`);
  });

  it('completes plan keys on an empty line', async () => {
    const editor = await openPlan('tiny.slayer');
    const end = editor.document.lineAt(editor.document.lineCount - 1).range.end;
    await editor.edit((e) => e.insert(end, '\n'));
    const pos = new vscode.Position(editor.document.lineCount - 1, 0);
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', editor.document.uri, pos);
    // Word-based suggestions (kind Text) would list the document's own words: only the server's count.
    const labels = list.items.filter((i) => i.kind !== vscode.CompletionItemKind.Text).map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
    for (const key of ['init', 'zero', 'final', 'run', 'stage']) assert.ok(labels.includes(key), `no completion "${key}" in: ${labels.slice(0, 40).join(', ')}`);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });
});
