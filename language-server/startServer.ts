// The server's wiring: capabilities, document sync, settings, and one adapter line per feature.
// Feature logic lives in service/ (pure functions from an analysis to LSP answers). The same
// startServer serves VS Code (dist/server.js over IPC) and any editor (`slayer lsp --stdio`).
import {
  CodeActionKind, CodeActionRequest, CodeLensRefreshRequest, CodeLensRequest, CompletionRequest, DidChangeConfigurationNotification,
  DidChangeTextDocumentNotification, DidChangeWatchedFilesNotification, DidCloseTextDocumentNotification, DidOpenTextDocumentNotification,
  DocumentDiagnosticReportKind, DocumentDiagnosticRequest, DocumentFormattingRequest, DocumentSymbolRequest, FoldingRangeRequest, HoverRequest,
  InitializedNotification, InitializeRequest, InlayHintRequest, SemanticTokensRequest, ShutdownRequest, TextDocumentSyncKind,
  type CancellationToken, type ClientCapabilities, type CodeActionParams, type CodeLensParams, type CompletionParams, type Connection, type Diagnostic,
  type DocumentDiagnosticParams, type DocumentFormattingParams, type DocumentSymbolParams, type FoldingRangeParams, type HoverParams,
  type InitializeParams, type InitializeResult, type InlayHintParams, type SemanticTokensParams,
} from 'vscode-languageserver';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PlanAnalysis } from '@slayer/core';
import {
  DEFAULT_SERVER_SETTINGS, DiagnosticsTimingNotification, isRemoteModelConfigResult, readServerSettings, RemoteModelConfigRequest, SERVER_CONFIGURATION_ITEMS,
  type DiagnosticsTimingParams, type SlayerInitOptions, type SlayerServerSettings,
} from '@slayer/protocol/languageServer';
import { SETTINGS_SECTION, settingValue } from '@slayer/protocol/settings';
import { CheckpointChecks } from './checkpointChecks';
import { Debouncer } from './debounce';
import { addHostActions, unknownHostDiagnostics } from './hostChecks';
import { PlanDocuments, uriToPath, type AnalyzedDocument } from './documents';
import { guardedNotification, guardedRequest, guardedRequest0 } from './guarded';
import { didChangeParams, didChangeWatchedFilesParams, didCloseParams, didOpenParams, validated, type Guard } from './incoming';
import { ModelResolver, type RemoteFetch } from './modelResolver';
import { codeActions, FIX_ALL_KIND } from './service/codeActions';
import { codeLenses } from './service/codeLens';
import { completions } from './service/completion';
import { toLspDiagnostics } from './service/diagnostics';
import { foldingRanges } from './service/folding';
import { formatDocument } from './service/formatting';
import { hover } from './service/hover';
import { inlayHints } from './service/inlayHints';
import { SEMANTIC_LEGEND, semanticTokens } from './service/semanticTokens';
import { SUGGEST_KIND, suggestActions } from './service/suggestActions';
import { documentSymbols } from './service/symbols';
import { ImportanceIndex } from './importanceIndex';
import { WorkspaceIndex } from './workspaceIndex';

export interface ServerRuntime {
  /** Reads host:/path models when the client does not (the CLI passes its SSH transport here). */
  remoteFetch?: RemoteFetch;
  homeDir?: string;
  /** Hosts known besides `slayer.hosts` and the SSH config (the CLI's hosts.json). */
  knownHosts?: () => string[];
}

const PUBLIC_DOCS_URL = 'https://example.invalid/slayer-studio/blob/main/docs/plan-language.md';

/** docs/plan-language.md next to the bundle when it is there (a checkout), else the published copy. */
function defaultDocsUrl(): string {
  const local = join(dirname(__dirname), 'docs', 'plan-language.md');
  return existsSync(local) ? pathToFileURL(local).href : PUBLIC_DOCS_URL;
}

export function startServer(connection: Connection, runtime: ServerRuntime = {}): void {
  let caps: ClientCapabilities = {};
  let init: SlayerInitOptions = {};
  let settings: SlayerServerSettings = { ...DEFAULT_SERVER_SETTINGS };
  let pullDiagnostics = false;
  let docsUrl = defaultDocsUrl();
  let configuredHosts: string[] = [];
  /** `slayer.hosts` has been read (until then no host is called unknown). */
  let hostsKnown = false;
  const debouncer = new Debouncer();
  const resolver = new ModelResolver(() => refreshAll(), runtime.remoteFetch);
  const documents = new PlanDocuments(resolver, runtime.homeDir);
  const workspace = new WorkspaceIndex(documents, runtime.homeDir);
  const importance = new ImportanceIndex();
  const checkpoints = new CheckpointChecks(() => refreshAll(), (ref) => resolver.remoteFindings(ref));

  const diagContext = (uri: string) => ({ uri, docsUrl, relatedInformation: caps.textDocument?.publishDiagnostics?.relatedInformation === true });
  /** The plan's diagnostics, and what a local checkpoint's headers say about its model. */
  const diagnosticsOf = (uri: string, a: PlanAnalysis): Diagnostic[] => [...toLspDiagnostics(a, diagContext(uri)), ...checkpoints.diagnostics(a, docsUrl), ...hostDiagnostics(a)];
  /** Hosts a run can reach: the editor's `slayer.hosts` and the SSH config's Host aliases. */
  const hostDiagnostics = (a: PlanAnalysis): Diagnostic[] =>
    (hostsKnown || !caps.workspace?.configuration ? unknownHostDiagnostics(a, new Set([...configuredHosts, ...(runtime.knownHosts?.() ?? []), ...workspace.hosts()]), docsUrl) : []);

  /**
   * Push mode: analyse and publish now. `applyMs`: time spent applying the edit that led here.
   * Runs from timers and refreshes, where a throw would end the process: one document's failure is
   * logged and the others are still served.
   */
  function publish(uri: string, applyMs: number): void {
    try {
      publishNow(uri, applyMs);
    } catch (e) {
      connection.console.error(`diagnostics of ${uri.slice(0, 200)} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  function publishNow(uri: string, applyMs: number): void {
    const started = performance.now();
    const d = documents.get(uri);
    if (!d) return;
    const diagnostics = diagnosticsOf(uri, d.analysis);
    void connection.sendDiagnostics({ uri, version: d.doc.version, diagnostics });
    if (init.reportTimings) {
      const t: DiagnosticsTimingParams = { uri, version: d.doc.version, serverMs: applyMs + performance.now() - started, analyzeMs: d.analyzeMs };
      void connection.sendNotification(DiagnosticsTimingNotification, t);
    }
  }

  function validate(uri: string, delayMs: number, applyMs = 0): void {
    if (pullDiagnostics) return; // the client asks when it wants them
    if (delayMs <= 0) {
      debouncer.cancel(uri);
      publish(uri, applyMs);
      return;
    }
    schedule(uri, delayMs, applyMs);
  }

  function schedule(uri: string, delayMs: number, applyMs: number): void {
    if (pullDiagnostics) return;
    debouncer.schedule(uri, Math.max(0, delayMs), () => publish(uri, applyMs));
  }

  /** What a model resolves to changed (a remote answer came, a config.json changed). */
  function refreshAll(): void {
    if (pullDiagnostics) {
      if (caps.workspace?.diagnostics?.refreshSupport) void connection.languages.diagnostics.refresh();
    } else for (const uri of documents.uris()) validate(uri, 0);
    if (caps.workspace?.inlayHint?.refreshSupport) void connection.languages.inlayHint.refresh();
    if (caps.workspace?.codeLens?.refreshSupport) void connection.sendRequest(CodeLensRefreshRequest.type);
  }

  async function loadSettings(): Promise<void> {
    if (!caps.workspace?.configuration) return;
    const [ls, sshConfigFile, hosts] = await connection.workspace.getConfiguration(SERVER_CONFIGURATION_ITEMS) as unknown[];
    settings = readServerSettings(ls);
    configuredHosts = Object.keys(settingValue('hosts', hosts));
    hostsKnown = true;
    workspace.sshConfigFile = settingValue('sshConfigFile', sshConfigFile) || undefined;
  }

  // Every handler below is wrapped (./guarded): an exception is logged with its method and answered,
  // a request cancelled before it ran is answered RequestCancelled; the server keeps serving.
  const logError = (m: string): void => connection.console.error(m);
  const request = <P, R>(method: string, handler: (params: P, token: CancellationToken) => R) => guardedRequest(method, logError, handler);
  const notification = <P>(method: string, handler: (params: P) => void) => guardedNotification(method, logError, handler);

  connection.onInitialize(request(InitializeRequest.method, (params: InitializeParams): InitializeResult => {
    caps = params.capabilities;
    init = (params.initializationOptions ?? {}) as SlayerInitOptions;
    if (typeof init.docsUrl === 'string' && init.docsUrl) docsUrl = init.docsUrl;
    pullDiagnostics = caps.textDocument?.diagnostic !== undefined;
    const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
    workspace.setFolders(folders.map(uriToPath).filter((p): p is string => p !== undefined));
    importance.setFolders(folders.map(uriToPath).filter((p): p is string => p !== undefined));
    if (init.remoteModels) {
      const fetch: RemoteFetch = async (host, path) => {
        const r: unknown = await connection.sendRequest(RemoteModelConfigRequest, { host, path });
        if (!isRemoteModelConfigResult(r)) throw new Error('the editor gave a malformed answer about the remote model');
        return r;
      };
      resolver.setRemoteFetch(fetch);
    }
    const literalActions = caps.textDocument?.codeAction?.codeActionLiteralSupport !== undefined;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        ...(pullDiagnostics ? { diagnosticProvider: { identifier: 'slayer', interFileDependencies: false, workspaceDiagnostics: false } } : {}),
        hoverProvider: true,
        completionProvider: { triggerCharacters: [' ', '/', ':', ',', '.', '~'] },
        ...(literalActions ? { codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite, SUGGEST_KIND, CodeActionKind.SourceFixAll, FIX_ALL_KIND] } } : {}),
        inlayHintProvider: true,
        semanticTokensProvider: { legend: SEMANTIC_LEGEND, full: true, range: false },
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        documentFormattingProvider: true,
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'slayer-language-server', version: '0.1.0' },
    };
  }));

  connection.onInitialized(notification(InitializedNotification.method, () => {
    if (caps.workspace?.didChangeConfiguration?.dynamicRegistration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
    }
    if (caps.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      void connection.client.register(DidChangeWatchedFilesNotification.type, {
        watchers: [{ globPattern: '**/config.json' }, { globPattern: '**/*.slayer' }, { globPattern: '**/*.safetensors' }, { globPattern: '**/model.safetensors.index.json' }, { globPattern: '**/.slayer/runs/*/{out/importance.json,importance.json}' }],
      });
    }
    void loadSettings().then(() => refreshAll(), (e: unknown) => connection.console.error(`settings: ${String(e)}`));
  }));

  connection.onDidChangeConfiguration(notification(DidChangeConfigurationNotification.method, () => {
    void loadSettings().then(() => refreshAll(), (e: unknown) => connection.console.error(`settings: ${String(e)}`));
  }));

  // Plans elsewhere in the workspace feed dataset completion; a config.json (created, changed or
  // deleted) may change what a model resolves to.
  const warn = (m: string): void => connection.console.warn(m);
  /** A notification whose params are shape-checked first (./incoming): a malformed one is logged and dropped. */
  const checked = <P>(method: string, guard: Guard<P>, handler: (params: P) => void) => notification(method, validated(method, guard, warn, handler));
  connection.onDidChangeWatchedFiles(checked(DidChangeWatchedFilesNotification.method, didChangeWatchedFilesParams, (p) => {
    let models = false;
    for (const c of p.changes) {
      const path = uriToPath(c.uri);
      if (c.uri.endsWith('.slayer')) workspace.planChanged();
      else if (c.uri.endsWith('/importance.json')) importance.invalidate();
      else if (path) {
        resolver.fileChanged(path);
        models = true;
      }
    }
    if (models) {
      checkpoints.invalidate();
      refreshAll();
    }
  }));

  connection.onDidOpenTextDocument(checked(DidOpenTextDocumentNotification.method, didOpenParams, ({ textDocument: t }) => {
    documents.open(t.uri, t.languageId, t.version, t.text);
    validate(t.uri, 0);
  }));
  // Always through the debouncer, even at debounceMs 0: a timer runs only once the messages already
  // queued are handled, so a burst of edits (50 documents × 1000 edits) is analysed per document
  // once, at its latest version, instead of once per edit.
  connection.onDidChangeTextDocument(checked(DidChangeTextDocumentNotification.method, didChangeParams, ({ textDocument: t, contentChanges }) => {
    const t0 = performance.now();
    if (documents.change(t.uri, t.version, contentChanges)) schedule(t.uri, settings.debounceMs, performance.now() - t0);
  }));
  connection.onDidCloseTextDocument(checked(DidCloseTextDocumentNotification.method, didCloseParams, ({ textDocument: t }) => {
    debouncer.cancel(t.uri);
    documents.close(t.uri);
    if (!pullDiagnostics) void connection.sendDiagnostics({ uri: t.uri, diagnostics: [] });
  }));

  connection.languages.diagnostics.on(request(DocumentDiagnosticRequest.method, (p: DocumentDiagnosticParams) => {
    const d = documents.get(p.textDocument.uri);
    if (!d) return { kind: DocumentDiagnosticReportKind.Full, items: [] };
    const items = diagnosticsOf(p.textDocument.uri, d.analysis);
    // From what is reported, so anything that changes it (a model re-read, a checkpoint finding,
    // slayer.hosts or the SSH config) gives a new id.
    const resultId = `${d.doc.version}:${createHash('sha1').update(JSON.stringify(items)).digest('base64url')}`;
    if (p.previousResultId === resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId };
    return { kind: DocumentDiagnosticReportKind.Full, resultId, items };
  }));

  /** A measurement of the plan's model in the workspace's fetched run artifacts, if any. */
  const importanceFor = (uri: string, a: PlanAnalysis): ReturnType<ImportanceIndex['forPlan']> =>
    (a.model?.shape ? importance.forPlan({ id: a.model.id, numLayers: a.model.shape.numLayers }, uriToPath(uri) ?? null) : null);

  const withDoc = <T>(uri: string, fn: (d: AnalyzedDocument) => T, none: T): T => {
    const d = documents.get(uri);
    return d ? fn(d) : none;
  };

  connection.onHover(request(HoverRequest.method, (p: HoverParams) => withDoc(p.textDocument.uri, (d) => hover(d.analysis, p.position), null)));
  connection.onCompletion(request(CompletionRequest.method, (p: CompletionParams) => withDoc(p.textDocument.uri, (d) => completions(d.analysis, p.position, workspace, uriToPath(p.textDocument.uri)), [])));
  connection.onCodeAction(request(CodeActionRequest.method, (p: CodeActionParams) => withDoc(p.textDocument.uri, (d) => [
    ...codeActions(d.analysis, p, diagContext(p.textDocument.uri)),
    ...suggestActions(d.analysis, p, p.textDocument.uri, () => importanceFor(p.textDocument.uri, d.analysis)),
    ...(!p.context.only || p.context.only.includes(CodeActionKind.QuickFix) ? addHostActions(hostDiagnostics(d.analysis), p.range) : []),
  ], [])));
  connection.languages.inlayHint.on(request(InlayHintRequest.method, (p: InlayHintParams) => withDoc(p.textDocument.uri, (d) => (settings.inlayHints ? inlayHints(d.analysis, p.range) : []), [])));
  connection.languages.semanticTokens.on(request(SemanticTokensRequest.method, (p: SemanticTokensParams) => withDoc(p.textDocument.uri, (d) => semanticTokens(d.analysis), { data: [] })));
  connection.onDocumentSymbol(request(DocumentSymbolRequest.method, (p: DocumentSymbolParams) => withDoc(p.textDocument.uri, (d) => documentSymbols(d.analysis), [])));
  connection.onFoldingRanges(request(FoldingRangeRequest.method, (p: FoldingRangeParams) => withDoc(p.textDocument.uri, (d) => foldingRanges(d.analysis), [])));
  connection.onDocumentFormatting(request(DocumentFormattingRequest.method, (p: DocumentFormattingParams) => withDoc(p.textDocument.uri, (d) => formatDocument(d.analysis), [])));
  connection.onCodeLens(request(CodeLensRequest.method, (p: CodeLensParams) => withDoc(p.textDocument.uri, (d) => codeLenses(d.analysis, p.textDocument.uri), [])));

  connection.onShutdown(guardedRequest0(ShutdownRequest.method, logError, () => debouncer.dispose()));
  connection.listen();
}
