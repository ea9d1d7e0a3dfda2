// `slayer lsp --stdio`: the language server for any LSP client (Neovim, Helix, Emacs, Zed), the
// same startServer as VS Code's. host:/path models are read over SSH by this process.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from '@slayer/language-server/startServer';
import { defaultHostSettings } from '../../remote/hostSettings';
import { remoteConfigFetcher } from '../../remote/remoteModelConfig';
import { TransportPool } from '../../remote/transportFactory';
import type { CliCommand } from '../io';

export const lspCommand: CliCommand = {
  name: 'lsp',
  summary: 'start the language server on stdin/stdout: slayer lsp --stdio',
  run(argv, io) {
    if (argv.includes('--help') || !argv.includes('--stdio')) {
      io.out('usage: slayer lsp --stdio [--ssh-config FILE]\n  speaks the Language Server Protocol on stdin/stdout (see docs/language-server.md)\n');
      return Promise.resolve(argv.includes('--help') ? 0 : 2);
    }
    const i = argv.indexOf('--ssh-config');
    const pool = new TransportPool(defaultHostSettings, i >= 0 ? argv[i + 1] : undefined);
    const fetch = remoteConfigFetcher((host) => pool.get(host));
    const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
    startServer(connection, { homeDir: homedir(), remoteFetch: (host, path) => fetch({ host, path }), knownHosts: cliHosts });
    // The server runs until the client sends exit (the connection ends the process).
    return new Promise<number>((resolve) => {
      connection.onExit(() => {
        void pool.closeAll().finally(() => resolve(0));
      });
    });
  },
};

/** Hosts of the CLI's per-host settings (~/.config/slayer/hosts.json), known to `run on` like slayer.hosts. */
function cliHosts(): string[] {
  try {
    const v: unknown = JSON.parse(readFileSync(join(homedir(), '.config', 'slayer', 'hosts.json'), 'utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.keys(v) : [];
  } catch {
    return [];
  }
}
