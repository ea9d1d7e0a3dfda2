// The language server's process entry (dist/server.js): VS Code starts it over IPC; `--stdio`
// works too (createConnection reads the transport from the command line).
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './startServer';

startServer(createConnection(ProposedFeatures.all));
