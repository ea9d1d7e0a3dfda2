// A small LSP client for the tests and the benchmark: spawns a server process and speaks real
// JSON-RPC to it (vscode-jsonrpc over stdio), answering workspace/configuration and
// client/registerCapability the way an editor does, and recording what the server publishes.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  ConfigurationRequest, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification, ExitNotification, InitializedNotification,
  InitializeRequest, PublishDiagnosticsNotification, RegistrationRequest, ShutdownRequest,
  type ClientCapabilities, type InitializeResult, type PublishDiagnosticsParams, type Registration, type TextDocumentContentChangeEvent, type TextEdit,
} from 'vscode-languageserver-protocol';

export const ROOT = join(__dirname, '..', '..');
export const SERVER = join(ROOT, 'dist', 'server.js');

/** What a capable editor announces (VS Code-like, push diagnostics). */
export const PUSH_CAPABILITIES: ClientCapabilities = {
  workspace: {
    configuration: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true },
    workspaceFolders: true,
  },
  textDocument: {
    synchronization: { dynamicRegistration: false },
    publishDiagnostics: { relatedInformation: true, versionSupport: true, codeDescriptionSupport: true, tagSupport: { valueSet: [1, 2] } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    completion: { completionItem: { snippetSupport: true } },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source', 'source.fixAll'] } }, isPreferredSupport: true },
    inlayHint: {},
    semanticTokens: { requests: { full: true }, tokenTypes: [], tokenModifiers: [], formats: ['relative'] },
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    foldingRange: {},
    formatting: {},
    codeLens: {},
  },
};

export interface StartOptions {
  command?: string[];
  env?: NodeJS.ProcessEnv;
  capabilities?: ClientCapabilities;
  initializationOptions?: unknown;
  workspaceFolders?: { uri: string; name: string }[];
  /** The workspace as older clients give it: rootUri alone (used when workspaceFolders is absent). */
  rootUri?: string;
  /** Answers to workspace/configuration, by section. */
  settings?: Record<string, unknown>;
}

export class LspClient {
  readonly published: PublishDiagnosticsParams[] = [];
  readonly registrations: Registration[] = [];
  readonly configurationRequests: string[] = [];
  private waiters: { match: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  stderr = '';
  init!: InitializeResult;

  private constructor(readonly proc: ChildProcess, readonly conn: MessageConnection, readonly settings: Record<string, unknown>) {}

  static async start(opts: StartOptions = {}): Promise<LspClient> {
    const [cmd, ...args] = opts.command ?? [process.execPath, SERVER, '--stdio'];
    const proc = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const c = new LspClient(proc, conn, opts.settings ?? {});
    proc.stderr!.on('data', (d: Buffer) => { c.stderr += d.toString(); });
    conn.onRequest(ConfigurationRequest.type, (p) => p.items.map((i) => {
      c.configurationRequests.push(i.section ?? '');
      return c.settings[i.section ?? ''] ?? null;
    }));
    conn.onRequest(RegistrationRequest.type, (p) => {
      c.registrations.push(...p.registrations);
    });
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
      c.published.push(p);
      c.waiters = c.waiters.filter((w) => (w.match(p) ? (w.resolve(p), false) : true));
    });
    conn.listen();
    c.init = await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: opts.workspaceFolders?.[0]?.uri ?? opts.rootUri ?? null,
      workspaceFolders: opts.workspaceFolders ?? null,
      capabilities: opts.capabilities ?? PUSH_CAPABILITIES,
      initializationOptions: opts.initializationOptions,
    });
    await conn.sendNotification(InitializedNotification.type, {});
    return c;
  }

  /** The next diagnostics published for `uri` (at `version`, and passing `where`, when given). */
  diagnostics(uri: string, version?: number, where?: (p: PublishDiagnosticsParams) => boolean, timeoutMs = 10_000): Promise<PublishDiagnosticsParams> {
    const match = (p: PublishDiagnosticsParams): boolean => p.uri === uri && (version === undefined || p.version === version) && (!where || where(p));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no diagnostics for ${uri} v${version} in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ match, resolve: (p) => { clearTimeout(timer); resolve(p); } });
    });
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'slayer', version, text } });
  }

  async change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): Promise<void> {
    await this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: changes });
  }

  async stop(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest(ShutdownRequest.type), new Promise((r) => setTimeout(r, 2000))]);
      await this.conn.sendNotification(ExitNotification.type);
    } catch {
      // the process may be gone already
    }
    const exited = new Promise<void>((r) => (this.proc.exitCode !== null ? r() : this.proc.once('exit', () => r())));
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
    this.conn.dispose();
  }
}

/** Applies LSP text edits to a text (edits do not overlap; applied from the end). */
export function applyEdits(text: string, edits: TextEdit[]): string {
  const offsetAt = (line: number, character: number): number => {
    let off = 0;
    for (let l = 0; l < line; l++) off = text.indexOf('\n', off) + 1;
    return off + character;
  };
  const sorted = edits
    .map((e) => ({ start: offsetAt(e.range.start.line, e.range.start.character), end: offsetAt(e.range.end.line, e.range.end.character), text: e.newText }))
    .sort((a, b) => b.start - a.start);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** Line and character of the `n`-th occurrence of `needle` in `text` (plus `delta` characters). */
export function posOf(text: string, needle: string, delta = 0, n = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= n; i++) at = text.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`"${needle}" not in the text`);
  const before = text.slice(0, at + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}
