// The language client: starts dist/server.js over IPC for .slayer documents, answers the server's
// `slayer/remoteModelConfig` requests over SSH (trusted workspaces only), and adapts the server's
// code lenses (document URI arguments, Run Expansion hidden in untrusted workspaces).
import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { LENS_COMMANDS, RemoteModelConfigRequest, type SlayerInitOptions } from '../protocol/languageServer';
import { LANGUAGE_SERVER_SECTION } from '../protocol/settings';
import { remoteConfigFetcher } from '../remote/remoteModelConfig';
import { TransportPool } from '../remote/transportFactory';
import { settingsFor, sshConfigFile } from './runs/hostConfiguration';
import { setting } from './settings';

export async function registerLanguageClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): Promise<LanguageClient> {
  const module = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  // One SSH control master per host, opened only when a plan names host:/path.
  let pool: TransportPool | undefined;
  const fetchRemote = remoteConfigFetcher((host) => (pool ??= new TransportPool(settingsFor, sshConfigFile())).get(host));
  const remoteAllowed = (): boolean => vscode.workspace.isTrusted && setting('languageServer.remoteModels');

  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'slayer', scheme: 'file' }, { language: 'slayer', scheme: 'untitled' }],
    initializationOptions: { remoteModels: true } satisfies SlayerInitOptions,
    outputChannel: output,
    middleware: {
      provideCodeLenses: async (doc, token, next) => {
        const lenses = (await next(doc, token)) ?? [];
        // A lens whose command is not registered (its feature not installed) is not shown.
        const registered = new Set(await vscode.commands.getCommands(true));
        return lenses
          .filter((l) => !l.command || registered.has(l.command.command))
          .filter((l) => vscode.workspace.isTrusted || l.command?.command !== LENS_COMMANDS.runExpansion)
          .map((l) => {
            if (l.command?.arguments) l.command.arguments = l.command.arguments.map((a: unknown) => (typeof a === 'string' ? vscode.Uri.parse(a) : a));
            return l;
          });
      },
    },
  };
  // The id names the `slayer.languageServer.trace.server` setting the client reads itself.
  const client = new LanguageClient(LANGUAGE_SERVER_SECTION, 'SLayer Language Server', serverOptions, clientOptions);
  client.onRequest(RemoteModelConfigRequest, async (p) => {
    if (!remoteAllowed()) {
      return { status: 'error', message: vscode.workspace.isTrusted ? 'reading remote models is turned off (slayer.languageServer.remoteModels)' : 'remote models are read only in a trusted workspace' };
    }
    return fetchRemote(p);
  });
  context.subscriptions.push(client, { dispose: () => void pool?.closeAll() });
  await client.start();
  return client;
}
