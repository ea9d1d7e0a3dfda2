// Hosting of one webview panel: options (scripts on, resources limited to the bundle folder,
// context not retained when hidden), the CSP'd HTML, validation of every message from the view,
// and the `ready` handshake: nothing is posted to a view until it said ready, and after the panel
// was hidden (its page is discarded) the view says ready again and gets a full refresh.
import * as vscode from 'vscode';
import { VIEW_TYPES, validateViewMessage, pngBytes, type ExportMessage, type HostMessage, type ViewKind, type ViewMessage } from '../../messages/webviewMessages';
import { makeNonce, renderPanelHtml } from './panelHtml';

/** What a view's controller does; the host owns the panel and the handshake. */
export interface ViewController extends vscode.Disposable {
  /** The view (re)loaded and wants everything it shows. */
  onReady(): void;
  onMessage(m: Exclude<ViewMessage, { type: 'ready' } | ExportMessage>): void | Promise<void>;
}

export class PanelHost implements vscode.Disposable {
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];
  private controller: ViewController | null = null;
  private disposed = false;
  readonly onDidDispose: vscode.Event<void>;

  constructor(readonly kind: ViewKind, readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly log: vscode.LogOutputChannel) {
    const root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.webview.html = renderPanelHtml({
      view: kind,
      title: panel.title,
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, `${kind}View.js`)).toString(),
      nonce: makeNonce(),
    });
    this.onDidDispose = panel.onDidDispose;
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      panel.onDidChangeViewState(() => {
        // A hidden panel's page is gone (retainContextWhenHidden is off); it re-announces itself.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  attach(controller: ViewController): void {
    this.controller = controller;
  }

  get isReady(): boolean {
    return this.ready && this.panel.visible;
  }

  /** Posts when the view can take it; otherwise drops it (the next `ready` refreshes everything). */
  post(m: HostMessage): boolean {
    if (!this.isReady) return false;
    void this.panel.webview.postMessage(m);
    return true;
  }

  private async receive(raw: unknown): Promise<void> {
    let m: ViewMessage;
    try {
      m = validateViewMessage(raw);
    } catch (e) {
      this.log.warn(`${VIEW_TYPES[this.kind]}: ignored a malformed message from the view: ${(e as Error).message}`);
      return;
    }
    try {
      if (m.type === 'ready') {
        if (m.view !== this.kind) return;
        this.ready = true;
        this.controller?.onReady();
      } else if (m.type === 'export') await this.save(m);
      else await this.controller?.onMessage(m);
    } catch (e) {
      void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);
    }
  }

  private async save(m: ExportMessage): Promise<void> {
    const bytes = m.format === 'png' ? pngBytes(m.dataUrl) : new TextEncoder().encode(m.content);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, m.fileName) : undefined,
      filters: m.format === 'png' ? { 'PNG image': ['png'] } : m.format === 'md' ? { Markdown: ['md'] } : { CSV: ['csv'] },
      saveLabel: `Export ${m.format.toUpperCase()}`,
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, bytes);
    void vscode.window.showInformationMessage(`SLayer: saved ${vscode.workspace.asRelativePath(target)}`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.controller?.dispose();
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}

