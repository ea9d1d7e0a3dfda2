// "The open plan" for the views: the active .slayer editor, else the last one that was active.
// Fires (debounced) when that plan is edited or another plan becomes active.
import * as vscode from 'vscode';

export class PlanSource implements vscode.Disposable {
  private current: vscode.TextDocument | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[];
  readonly onDidChange = this.emitter.event;

  constructor(private readonly delayMs = 150) {
    this.pick(vscode.window.activeTextEditor?.document);
    if (!this.current) this.current = vscode.workspace.textDocuments.find((d) => d.languageId === 'slayer');
    this.subs = [
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (this.pick(e?.document)) this.emitter.fire();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === this.current) this.changedSoon();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => {
        if (d === this.current) {
          this.current = undefined;
          this.emitter.fire();
        }
      }),
    ];
  }

  get document(): vscode.TextDocument | undefined {
    return this.current;
  }

  /** Makes `doc` the plan the views follow (a code lens names its plan). */
  use(doc: vscode.TextDocument): void {
    if (this.pick(doc)) this.emitter.fire();
  }

  private pick(doc: vscode.TextDocument | undefined): boolean {
    if (!doc || doc.languageId !== 'slayer' || doc === this.current) return false;
    this.current = doc;
    return true;
  }

  private changedSoon(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire();
    }, this.delayMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}
