// One spawned server per test file over real JSON-RPC, with the fixture's home and workspace, and the
// requests the service tests share: open or replace a document (waiting for its diagnostics), the
// hover text and the completion items at a position.
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CompletionRequest, HoverRequest, type CompletionItem, type Diagnostic, type MarkupContent, type Position } from 'vscode-languageserver-protocol';
import { buildOnce, makeFixture, type Fixture } from './fixture';
import { LspClient } from './lspClient';

export interface EditorSession {
  readonly c: LspClient;
  readonly fx: Fixture;
  /** Opens (or replaces) a document of the workspace and waits for its diagnostics. */
  show(name: string, text: string): Promise<{ uri: string; diagnostics: Diagnostic[] }>;
  hoverText(uri: string, position: Position): Promise<string>;
  complete(uri: string, position: Position): Promise<CompletionItem[]>;
}

/** Registers before/after hooks that start and stop the server; use at the top of a test file. */
export function editorSession(): EditorSession {
  let fx!: Fixture;
  let c!: LspClient;
  let version = 0;
  const opened = new Set<string>();
  before(async () => {
    buildOnce();
    fx = makeFixture();
    c = await LspClient.start({
      env: { HOME: fx.home },
      workspaceFolders: [{ uri: pathToFileURL(fx.workspace).href, name: 'ws' }],
      settings: { 'slayer.languageServer': { debounceMs: 0 } },
    });
  });
  after(async () => {
    // Either may be missing when the build or the start failed; that failure is the one to report.
    if (c) await c.stop();
    if (fx) fx.cleanup();
  });
  return {
    get c() {
      return c;
    },
    get fx() {
      return fx;
    },
    async show(name, text) {
      const uri = fx.uri(name);
      const v = ++version;
      const p = c.diagnostics(uri, v);
      if (!opened.has(uri)) {
        opened.add(uri);
        await c.open(uri, text, v);
      } else await c.change(uri, v, [{ text }]);
      return { uri, diagnostics: (await p).diagnostics };
    },
    async hoverText(uri, position) {
      const h = await c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
      return h ? (h.contents as MarkupContent).value : '';
    },
    async complete(uri, position) {
      const r = await c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
      return Array.isArray(r) ? r : (r?.items ?? []);
    },
  };
}
