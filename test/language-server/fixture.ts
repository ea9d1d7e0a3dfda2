// A temporary home (~/.ssh/config with Include and wildcard hosts) and workspace (plans that use
// datasets, a local checkpoint directory with config.json) for the language-server tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CompletionRequest, HoverRequest, type CompletionItem, type Diagnostic, type MarkupContent, type Position } from 'vscode-languageserver-protocol';
import { shapeToHfConfig, lookupCatalogue } from '../../src/core';
import { LspClient, ROOT } from './lspClient';

export const PAPER_PLAN = `# SLayer-8B
model   meta-llama/Llama-2-7b-hf
expand  (2+1)x8 | 13 | 1◇
train   new, final, head

stage cpt
  data     proof-pile-2: 5, the-stack-dedup/python: 2
  tokens   30B
  lr       2e-4 cosine warmup 2%
  batch    1024 x 4096
  epochs   2

run on a100-box gpus 8
`;

export interface Fixture {
  home: string;
  workspace: string;
  uri(name: string): string;
  cleanup(): void;
}

export function buildOnce(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** config.json of a small Llama-family checkpoint (SmolLM2-135M's shape, `layers` blocks). */
export function smolConfig(layers: number): string {
  const shape = lookupCatalogue('HuggingFaceTB/SmolLM2-135M')!.shape;
  return JSON.stringify({ ...shapeToHfConfig({ ...shape, numLayers: layers }) }, null, 2);
}

export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'slayer-ls-'));
  const home = join(base, 'home');
  const workspace = join(base, 'ws');
  mkdirSync(join(home, '.ssh', 'config.d'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'config'), [
    'Host gpu-box a100-box',
    '  HostName 10.0.0.5',
    'Host *.internal !bastion',
    '  User me',
    'Include config.d/*.conf',
    'Host   = login-node',
  ].join('\n'));
  writeFileSync(join(home, '.ssh', 'config.d', 'cluster.conf'), 'Host cluster-a cluster-?\n  ProxyJump login-node\n');
  mkdirSync(join(workspace, 'plans'), { recursive: true });
  writeFileSync(join(workspace, 'plans', 'other.slayer'), 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n\nstage sft\n  data my-instructions: 2, openhermes\n');
  mkdirSync(join(workspace, 'ckpt'), { recursive: true });
  writeFileSync(join(workspace, 'ckpt', 'config.json'), smolConfig(30));
  mkdirSync(join(workspace, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'tiny', 'config.json'), smolConfig(8));
  return {
    home,
    workspace,
    uri: (name) => pathToFileURL(join(workspace, name)).href,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** The spawned server on a fixture workspace, as the editor-feature tests share it. */
export interface WorkspaceServer {
  readonly fx: Fixture;
  readonly c: LspClient;
  /** Opens (or replaces) a document and waits for its diagnostics. */
  show(name: string, text: string): Promise<{ uri: string; diagnostics: Diagnostic[] }>;
  hoverText(uri: string, position: Position): Promise<string>;
  complete(uri: string, position: Position): Promise<CompletionItem[]>;
}

/**
 * Registers the suite's set-up: build, a fixture workspace (HOME and one workspace folder), the
 * server started on it with push diagnostics and `debounceMs` 0 plus `settings` — and, after the
 * suite, stopped and cleaned up. When `awaitSections` are given, the set-up waits until the server
 * has asked for each (settings it reads after initialisation, e.g. `slayer.hosts`). `prepare` writes
 * into the fixture before the server starts.
 */
export function useWorkspaceServer(settings: Record<string, unknown> = {}, awaitSections: string[] = [], prepare?: (fx: Fixture) => void): WorkspaceServer {
  let fx: Fixture | undefined;
  let c: LspClient | undefined;
  let version = 0;
  const opened = new Set<string>();
  before(async () => {
    buildOnce();
    fx = makeFixture();
    prepare?.(fx); // files the server must find when it starts (e.g. a run's importance.json)
    c = await LspClient.start({
      env: { HOME: fx.home },
      workspaceFolders: [{ uri: pathToFileURL(fx.workspace).href, name: 'ws' }],
      settings: { 'slayer.languageServer': { debounceMs: 0 }, ...settings },
    });
    if (awaitSections.length === 0) return;
    const deadline = Date.now() + 5000;
    while (!awaitSections.every((s) => c!.configurationRequests.includes(s)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100)); // the answer is applied after the request
  });
  after(async () => {
    await c?.stop();
    fx?.cleanup();
  });
  const started = (): { fx: Fixture; c: LspClient } => {
    if (!fx || !c) throw new Error('the workspace server is used outside its suite (before it started)');
    return { fx, c };
  };
  return {
    get fx() {
      return started().fx;
    },
    get c() {
      return started().c;
    },
    async show(name, text) {
      const { fx, c } = started();
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
      const h = await started().c.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position });
      return h ? (h.contents as MarkupContent).value : '';
    },
    async complete(uri, position) {
      const r = await started().c.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
      return Array.isArray(r) ? r : (r?.items ?? []);
    },
  };
}

/** A plan with an eval section holding an unknown task and off-protocol shots (the eval service tests share it). */
export const EVAL_PLAN = `model meta-llama/Llama-2-7b-hf
expand (2+1)x8 | 13 | 1◇
eval
  when base, final
  domain gsm8k shots 5
  general hellaswagg
  general arc_challenge shots 0
  domain ./tasks/legal.yaml
  perplexity domain heldout.txt
  
`;
