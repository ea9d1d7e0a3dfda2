// package.json against the command table (src/protocol/commands.ts): every contributed command has
// a key in the table (whose handler src/extension/commands.ts must provide to compile), every
// command of the table but the internal ones is contributed, and menus, keybindings, activation
// events and the walkthrough name only commands of the table (or VS Code's own, not `slayer.*`).
// And against the settings table (src/protocol/settings.ts): the same names, defaults and types.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { COMMANDS, INTERNAL_COMMANDS } from '../../src/protocol/commands';
import { Schema, SchemaError } from '../../src/protocol/jsonSchema';
import { DEFAULT_SERVER_SETTINGS, FIX_COMMANDS, LENS_COMMANDS } from '../../src/protocol/languageServer';
import { LANGUAGE_SERVER_SECTION, settingId, SETTINGS, settingValue, type SettingKey } from '../../src/protocol/settings';

const ROOT = join(__dirname, '..', '..');

interface Manifest {
  activationEvents?: string[];
  contributes: {
    commands: { command: string }[];
    menus?: Record<string, { command?: string; alt?: string; submenu?: string }[]>;
    keybindings?: { command: string }[];
    walkthroughs?: { steps: { description: string; completionEvents?: string[] }[] }[];
    configuration: { properties: Record<string, { type: string | string[]; default: unknown; enum?: unknown[]; minimum?: number; maximum?: number }> }[];
  };
}
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const table = new Set<string>(Object.values(COMMANDS));
const internal = new Set<string>(INTERNAL_COMMANDS.map((k) => COMMANDS[k]));
const contributed = manifest.contributes.commands.map((c) => c.command);

test('the contributed commands are exactly the table\'s, less the internal ones, each once', () => {
  assert.equal(new Set(contributed).size, contributed.length, 'a command contributed twice');
  assert.deepEqual([...contributed].sort(), [...table].filter((id) => !internal.has(id)).sort());
  assert.equal(new Set(Object.values(COMMANDS)).size, Object.keys(COMMANDS).length, 'two keys of the table share an id');
  for (const id of table) assert.match(id, /^slayer\.[a-z][A-Za-z]+$/);
});

test('menus, keybindings and activation events name only commands of the table', () => {
  const named: [string, string][] = [];
  for (const [where, items] of Object.entries(manifest.contributes.menus ?? {})) {
    for (const m of items) for (const id of [m.command, m.alt]) if (id) named.push([`menus.${where}`, id]);
  }
  for (const k of manifest.contributes.keybindings ?? []) named.push(['keybindings', k.command]);
  for (const e of manifest.activationEvents ?? []) if (e.startsWith('onCommand:')) named.push(['activationEvents', e.slice('onCommand:'.length)]);
  assert.ok(named.length >= 10, `only ${named.length} menu entries`);
  for (const [where, id] of named) assert.ok(table.has(id) && !internal.has(id), `${where}: ${id} is not a contributed command of the table`);
});

test('the walkthrough\'s buttons and completion events name commands of the table, or VS Code\'s own', () => {
  const named: string[] = [];
  for (const w of manifest.contributes.walkthroughs ?? []) {
    for (const s of w.steps) {
      named.push(...[...s.description.matchAll(/\(command:([\w.-]+)/g)].map((m) => m[1]!));
      named.push(...(s.completionEvents ?? []).filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length)));
    }
  }
  assert.ok(named.filter((id) => id.startsWith('slayer.')).length >= 5, named.join(', '));
  for (const id of named) {
    if (id.startsWith('slayer.')) assert.ok(table.has(id) && !internal.has(id), `walkthrough: ${id} is not a contributed command of the table`);
    else assert.match(id, /^workbench\./, `walkthrough: ${id} is neither ours nor VS Code's`);
  }
});

test('the language server\'s lens and quick-fix commands are contributed commands of the table', () => {
  for (const id of [...Object.values(LENS_COMMANDS), ...Object.values(FIX_COMMANDS)]) assert.ok(contributed.includes(id), id);
});

const properties = Object.assign({}, ...manifest.contributes.configuration.map((g) => g.properties)) as Manifest['contributes']['configuration'][number]['properties'];
const keys = Object.keys(SETTINGS) as SettingKey[];

test('the contributed settings are exactly the table\'s, with the same defaults', () => {
  assert.deepEqual(Object.keys(properties).sort(), keys.map(settingId).sort());
  for (const k of keys) assert.deepEqual(SETTINGS[k].default, properties[settingId(k)]!.default, settingId(k));
  // The language server's own defaults are the table's; its section is the settings' prefix.
  assert.deepEqual(DEFAULT_SERVER_SETTINGS, { debounceMs: properties['slayer.languageServer.debounceMs']!.default, inlayHints: properties['slayer.languageServer.inlayHints']!.default });
  for (const name of Object.keys(properties).filter((n) => n.startsWith(`${LANGUAGE_SERVER_SECTION}.`))) assert.ok(keys.some((k) => settingId(k) === name));
});

test('a value reads as itself exactly when package.json\'s type (enum, range) admits it, else as the default', () => {
  const samples: unknown[] = [true, false, 0, 1, 120, -1, 1.5, 5000, 5001, 'x', '', 'off', 'verbose', 'localhost', null, {}, { gpu: { python: 'python3' } }, [], ['x']];
  for (const k of keys) {
    const p = properties[settingId(k)]!;
    // The top-level type only: entries of slayer.hosts are each read by hostSettingsFrom.
    const schema = new Schema(Object.fromEntries(Object.entries({ type: p.type, enum: p.enum, minimum: p.minimum, maximum: p.maximum }).filter(([, v]) => v !== undefined)));
    for (const v of samples) {
      let admitted = true;
      try {
        schema.validate(v);
      } catch (e) {
        if (!(e instanceof SchemaError)) throw e;
        admitted = false;
      }
      assert.deepEqual(settingValue(k, v), admitted ? v : SETTINGS[k].default, `${settingId(k)} = ${JSON.stringify(v)} (package.json ${admitted ? 'admits' : 'refuses'} it)`);
    }
  }
});
