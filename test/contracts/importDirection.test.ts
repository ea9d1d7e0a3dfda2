// Imports point one way. Every import of src/, language-server/ and webview/ is parsed (the
// TypeScript scanner: static, type-only, dynamic, require, re-exports) and checked against the room
// table of rooms.json: a room imports only itself and the rooms it lists, and only the packages it
// lists; a relative import never leaves its TypeScript project (language-server/ and webview/ import
// src/ rooms by their @slayer/ name); the table itself has no cycle. A failure names the file, the
// line and the import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as ts from 'typescript';
import roomsJson from '../../rooms.json';

const ROOT = join(__dirname, '..', '..');

interface Room {
  path: string;
  imports: string[];
  packages: string[];
}
type Rooms = Record<string, Room>;
const ROOMS: Rooms = roomsJson.rooms;
/** The TypeScript projects: a relative import stays inside its own. */
const PROJECTS = ['src', 'language-server', 'webview'];

/** The @slayer/ path aliases of tsconfig.base.json, as [prefix, target prefix, exact]. */
function aliases(): [string, string, boolean][] {
  const parsed = ts.parseConfigFileTextToJson('tsconfig.base.json', readFileSync(join(ROOT, 'tsconfig.base.json'), 'utf8'));
  const paths = (parsed.config as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;
  return Object.entries(paths).map(([from, [to]]) => {
    const target = posix.normalize(to!);
    return from.endsWith('*') ? [from.slice(0, -1), target.slice(0, -1), false] : [from, target, true];
  });
}

function roomOf(rooms: Rooms, path: string): string | null {
  let best: string | null = null;
  for (const [name, r] of Object.entries(rooms)) {
    if ((path === r.path || path.startsWith(`${r.path}/`)) && (best === null || r.path.length > rooms[best]!.path.length)) best = name;
  }
  return best;
}

export interface SourceFile {
  /** Repository-relative, with forward slashes. */
  path: string;
  text: string;
}

/** Every import that breaks a rule, as `file:line: import 'x': why`. */
export function importViolations(files: readonly SourceFile[], rooms: Rooms, aliasTable: [string, string, boolean][]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const from = roomOf(rooms, f.path);
    const where = (pos: number, spec: string): string => `${f.path}:${f.text.slice(0, pos).split('\n').length}: import '${spec}'`;
    if (from === null) {
      out.push(`${f.path}: in no room of rooms.json (add the folder there, with what it may import)`);
      continue;
    }
    const room = rooms[from]!;
    const project = f.path.split('/')[0]!;
    for (const imp of ts.preProcessFile(f.text, true, true).importedFiles) {
      const spec = imp.fileName;
      let target: string;
      if (spec.startsWith('.')) {
        target = posix.normalize(posix.join(posix.dirname(f.path), spec));
        const toContracts = roomOf(rooms, target) === 'contracts';
        if (target.split('/')[0] !== project && !toContracts) {
          const to = roomOf(rooms, target);
          out.push(`${where(imp.pos, spec)}: climbs out of ${project}/${to ? `; import it by name (@slayer/${to}/…)` : ''}`);
          continue;
        }
      } else if (spec.startsWith('@slayer/')) {
        const hit = aliasTable.find(([a, , exact]) => (exact ? spec === a : spec.startsWith(a)));
        if (!hit) {
          out.push(`${where(imp.pos, spec)}: no such alias in tsconfig.base.json`);
          continue;
        }
        target = hit[2] ? hit[1] : hit[1] + spec.slice(hit[0].length);
      } else {
        const ok = room.packages.some((p) => (p.endsWith(':') ? spec.startsWith(p) : spec === p));
        if (!ok) out.push(`${where(imp.pos, spec)}: ${from} may not import the package '${spec}' (it may import ${room.packages.length ? room.packages.join(', ') : 'no package'})`);
        continue;
      }
      const to = roomOf(rooms, target);
      if (to === null) out.push(`${where(imp.pos, spec)}: ${target} is in no room of rooms.json`);
      else if (to !== from && !room.imports.includes(to)) out.push(`${where(imp.pos, spec)}: ${from} may not import ${to} (${from} imports ${room.imports.join(', ') || 'nothing'}; see rooms.json)`);
    }
  }
  return out;
}

/** A cycle in the room table, as `a → b → a`, or null. */
export function roomCycle(rooms: Rooms): string | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, trail: string[]): string | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'open') return [...trail.slice(trail.indexOf(name)), name].join(' → ');
    state.set(name, 'open');
    for (const next of rooms[name]?.imports ?? []) {
      const c = visit(next, [...trail, name]);
      if (c) return c;
    }
    state.set(name, 'done');
    return null;
  };
  for (const name of Object.keys(rooms)) {
    const c = visit(name, []);
    if (c) return c;
  }
  return null;
}

function sources(dir: string, out: SourceFile[] = []): SourceFile[] {
  for (const name of readdirSync(join(ROOT, dir)).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(ROOT, rel)).isDirectory()) sources(rel, out);
    else if (name.endsWith('.ts')) out.push({ path: rel, text: readFileSync(join(ROOT, rel), 'utf8') });
  }
  return out;
}

test('the room table names only rooms and has no cycle', () => {
  for (const [name, r] of Object.entries(ROOMS)) {
    for (const to of r.imports) assert.ok(ROOMS[to], `rooms.json: ${name} imports ${to}, which is not a room`);
  }
  assert.equal(roomCycle(ROOMS), null);
  assert.ok(!Object.values(ROOMS).some((r) => r.imports.includes('extension')), 'nothing imports the extension');
});

test('every import of src/, language-server/ and webview/ points the way rooms.json allows', () => {
  const files = PROJECTS.flatMap((p) => sources(p));
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const bad = importViolations(files, ROOMS, aliases());
  assert.deepEqual(bad, [], `imports against the room table:\n  ${bad.join('\n  ')}`);
});

test('the check names each kind of wrong import (file, line, import, rule)', () => {
  const files: SourceFile[] = [
    { path: 'src/core/a.ts', text: "import { x } from '../extension/runs';\nimport type { Y } from './b';\n" },
    { path: 'src/modelfiles/scan.ts', text: "export { shPath } from '../remote/shellQuote';\n" },
    { path: 'language-server/service/h.ts', text: "\nimport { analyzePlan } from '../../src/core';\n" },
    { path: 'webview/v.ts', text: "import * as fs from 'node:fs';\nconst p = import('@slayer/remote/runStore');\n" },
    { path: 'src/core/c.ts', text: "const vscode = require('vscode');\n" },
    { path: 'src/newroom/x.ts', text: '' },
  ];
  assert.deepEqual(importViolations(files, ROOMS, aliases()), [
    "src/core/a.ts:1: import '../extension/runs': core may not import extension (core imports contracts, protocol, shared; see rooms.json)",
    "src/modelfiles/scan.ts:1: import '../remote/shellQuote': modelfiles may not import remote (modelfiles imports protocol, shared, core; see rooms.json)",
    "language-server/service/h.ts:2: import '../../src/core': climbs out of language-server/; import it by name (@slayer/core/…)",
    "webview/v.ts:1: import 'node:fs': webview may not import the package 'node:fs' (it may import chart.js)",
    "webview/v.ts:2: import '@slayer/remote/runStore': no such alias in tsconfig.base.json",
    "src/core/c.ts:1: import 'vscode': core may not import the package 'vscode' (it may import no package)",
    'src/newroom/x.ts: in no room of rooms.json (add the folder there, with what it may import)',
  ]);
  assert.equal(roomCycle({ ...ROOMS, protocol: { ...ROOMS.protocol!, imports: ['contracts', 'core'] } }), 'protocol → core → protocol');
});
