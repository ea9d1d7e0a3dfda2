#!/usr/bin/env node
// `npm run package`: a production build of the bundles, then `vsce package --no-dependencies`
// (the whitelist .vscodeignore decides what goes in; no node_modules: everything is bundled).
// Checks the .vsix holds every piece the extension needs at run time and nothing it must not ship,
// then prints its size and file count.
//   --skip-build   package the bundles already in dist/ (the tests do this after `npm test`'s build)
//   --out PATH     where to write the .vsix (default: slayer-studio-VERSION.vsix at the root)
//   --json         print one JSON line {vsix, bytes, files, entries} instead of the summary
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const out = resolve(option('--out') ?? `${pkg.name}-${pkg.version}.vsix`);
const quiet = flag('--json');

function sh(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.status !== 0) {
    console.error(`package: ${cmd} ${argv.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

if (!flag('--skip-build')) sh(process.execPath, ['scripts/build.mjs', '--production']);
// The extension's details page shows README.extension.md (written for users of the extension; the
// repository's README.md is for its developers). Its relative links stay relative and resolve inside
// the .vsix: the repository is not on a host vsce knows how to rewrite for.
const README = 'README.extension.md';
sh(process.execPath, ['node_modules/@vscode/vsce/vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '--readme-path', README, '--out', out]);

/** Entry names of a zip file, read from its central directory (a .vsix is a plain zip). */
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${out} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    entries.push({ name: buf.toString('utf8', p + 46, p + 46 + nameLen), method, compressed, local });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The bytes of one entry (stored or deflated), to check the packaged manifest. */
function zipRead(buf, e) {
  const start = e.local + 30 + buf.readUInt16LE(e.local + 26) + buf.readUInt16LE(e.local + 28);
  const data = buf.subarray(start, start + e.compressed);
  return e.method === 8 ? inflateRawSync(data) : data;
}

const buf = readFileSync(out);
const entries = zipEntries(buf);
const names = entries.map((e) => e.name);
const files = names.filter((n) => n.startsWith('extension/'));

// What must be inside: every bundle whose source exists in this tree, and the static assets.
const required = [
  'extension/package.json', 'extension/README.md', 'extension/LICENSE.txt',
  'extension/language-configuration.json', 'extension/syntaxes/slayer.tmLanguage.json',
  'extension/dist/extension.js', 'extension/dist/cli.js',
];
if (existsSync('language-server/server.ts')) required.push('extension/dist/server.js');
if (existsSync('webview')) {
  for (const f of readdirSync('webview')) if (/^[a-zA-Z]+View\.ts$/.test(f)) required.push(`extension/dist/webview/${f.replace(/\.ts$/, '.js')}`);
}
if (existsSync('runner/slayer_runner/__main__.py')) required.push('extension/runner/slayer_runner/__main__.py');
// vsce stores the README as readme.md.
const lower = new Set(names.map((n) => n.toLowerCase()));
const missing = required.filter((r) => !lower.has(r.toLowerCase()));
const forbidden = files.filter((n) => /(^|\/)(node_modules|src|test|\.tools|__pycache__)\//.test(n.slice('extension/'.length)) || /\.(map|ts|vsix)$/.test(n));
const manifest = JSON.parse(zipRead(buf, entries.find((e) => e.name === 'extension/package.json')).toString('utf8'));
const read = (name) => {
  const e = entries.find((x) => x.name.toLowerCase() === name.toLowerCase());
  return e ? zipRead(buf, e) : null;
};
const shipped = (rel) => lower.has(`extension/${rel.replace(/^\.\//, '')}`.toLowerCase());

/** Relative links and images of the packaged README that do not resolve to a file in the .vsix. */
function brokenReadmeLinks() {
  const text = read('extension/readme.md')?.toString('utf8') ?? '';
  const targets = [...text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]);
  return targets.filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#')).map((t) => t.split('#')[0]).filter((t) => t && !shipped(t));
}

/** The icon: a 128×128 PNG that ships. */
function iconProblems() {
  if (!manifest.icon) return ['package.json has no icon'];
  const png = read(`extension/${manifest.icon}`);
  if (!png) return [`icon ${manifest.icon} is not in the .vsix`];
  const sig = png.subarray(0, 8).toString('hex') === '89504e470d0a1a0a';
  return sig && png.readUInt32BE(16) === 128 && png.readUInt32BE(20) === 128 ? [] : [`icon ${manifest.icon} is not a 128×128 PNG`];
}

/** Every walkthrough step's image ships, and its command buttons name contributed (or built-in) commands. */
function walkthroughProblems() {
  const commands = new Set((manifest.contributes?.commands ?? []).map((c) => c.command));
  const out = [];
  for (const w of manifest.contributes?.walkthroughs ?? []) {
    for (const step of w.steps) {
      const media = step.media?.image ?? step.media?.markdown;
      if (typeof media === 'string' && !shipped(media)) out.push(`walkthrough step ${step.id}: ${media} is not in the .vsix`);
      for (const m of step.description.matchAll(/\(command:([A-Za-z0-9_.]+)/g)) {
        if (m[1].startsWith('slayer.') && !commands.has(m[1])) out.push(`walkthrough step ${step.id}: command ${m[1]} is not contributed`);
      }
    }
  }
  return out;
}

const problems = [
  ...missing.map((m) => `missing ${m}`),
  ...forbidden.map((f) => `must not ship ${f}`),
  ...(manifest.name === pkg.name && manifest.version === pkg.version ? [] : ['packaged package.json differs from the tree']),
  ...brokenReadmeLinks().map((l) => `README link ${l} does not resolve inside the .vsix`),
  ...iconProblems(),
  ...walkthroughProblems(),
];

const bytes = statSync(out).size;
if (quiet) {
  console.log(JSON.stringify({ vsix: out, bytes, files: files.length, entries: files, problems }));
} else {
  console.log(`\npackage: ${out}`);
  console.log(`package: ${(bytes / 1024).toFixed(1)} KiB, ${files.length} files in extension/`);
  for (const p of problems) console.error(`package: ${p}`);
}
process.exit(problems.length ? 1 : 0);
