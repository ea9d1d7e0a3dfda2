// The commands the language server names — its code lenses and its quick fixes' commands — are
// commands of the extension's table (src/protocol/commands.ts) that package.json contributes, read
// from the spawned server over real JSON-RPC for a plan that gets both.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CodeActionRequest, CodeLensRequest, type Command } from 'vscode-languageserver-protocol';
import { COMMANDS, INTERNAL_COMMANDS } from '../../src/protocol/commands';
import { buildOnce, makeFixture, type Fixture } from './fixture';
import { LspClient, ROOT } from './lspClient';

let fx: Fixture;
let c: LspClient;
before(async () => {
  buildOnce();
  fx = makeFixture();
  c = await LspClient.start({ env: { HOME: fx.home }, settings: { 'slayer.languageServer': { debounceMs: 0 }, 'slayer.hosts': {} } });
  const deadline = Date.now() + 5000;
  while (!c.configurationRequests.includes('slayer.hosts') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
});
after(async () => {
  await c.stop();
  fx.cleanup();
});

test('every command of the code lenses and quick fixes is a contributed command of the table', async () => {
  const uri = 'untitled:commands.slayer';
  const text = 'model meta-llama/Llama-2-7b-hf\nexpand (2+1)x8 | 13 | 1◇\nrun on no-such-host gpus 8\n';
  const published = c.diagnostics(uri, 1, (p) => p.diagnostics.some((d) => d.code === 'SL052'));
  await c.open(uri, text);
  const { diagnostics } = await published;
  const lenses = (await c.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } })) ?? [];
  const whole = { start: { line: 0, character: 0 }, end: { line: 3, character: 0 } };
  const actions = (await c.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: whole, context: { diagnostics } })) ?? [];
  const named = [
    ...lenses.map((l) => l.command?.command),
    ...actions.map((a) => ('command' in a && typeof a.command === 'object' ? (a.command as Command).command : typeof a.command === 'string' ? a.command : undefined)),
  ].filter((x): x is string => x !== undefined);
  assert.ok(lenses.length >= 3 && named.includes(COMMANDS.addHost), `lenses and the add-host fix: ${named.join(', ')}`);
  const contributed = new Set((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { commands: { command: string }[] } }).contributes.commands.map((x) => x.command));
  const table = new Set<string>(Object.values(COMMANDS));
  const internal = new Set<string>(INTERNAL_COMMANDS.map((k) => COMMANDS[k]));
  for (const id of named) {
    assert.ok(table.has(id), `${id} is not in the command table`);
    assert.ok(contributed.has(id) && !internal.has(id), `${id} is not contributed`);
  }
});
