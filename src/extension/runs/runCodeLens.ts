// "▶ Run Expansion" above each .slayer plan (trusted workspaces only).
import * as vscode from 'vscode';

export class RunCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor() {
    vscode.workspace.onDidGrantWorkspaceTrust(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted) return [];
    // Above the first line that is not blank or a comment: where the plan starts.
    let line = 0;
    while (line < doc.lineCount - 1 && /^\s*(#.*)?$/.test(doc.lineAt(line).text)) line++;
    return [new vscode.CodeLens(doc.lineAt(line).range, { title: '$(play) Run Expansion', command: 'slayer.runExpansion', arguments: [doc.uri] })];
  }
}
