#!/usr/bin/env node
// The one test command (`npm test`): set-up, typecheck, lint, build, then every test suite —
// TypeScript tests under node's test runner, the Python runner's tests under unittest with the project venv's Python — and a
// closing line `N passed, N failed, N skipped` that counts them all. Skipped tests are never counted
// as passed; the summary lists why they were skipped (a missing tool says so there).
// `npm test -- PATTERN…` runs only test files whose path contains one of the patterns.
// SLAYER_SKIP_SETUP=1 skips scripts/setup.sh (for quick local loops).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { projectPython } from './lib/projectPython.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const patterns = process.argv.slice(2);
const results = []; // { name, passed, failed, skipped }
const skipReasons = new Map(); // reason → number of tests skipped for it

function run(name, cmd, args, opts = {}) {
  console.log(`\n=== ${name}: ${[cmd, ...args].join(' ').slice(0, 200)}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...opts.env } });
  if (opts.capture) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  console.log(`=== ${name}: exit ${r.status ?? r.signal} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r;
}

function step(name, cmd, args) {
  const r = run(name, cmd, args);
  results.push({ name, passed: r.status === 0 ? 1 : 0, failed: r.status === 0 ? 0 : 1, skipped: 0 });
  return r.status === 0;
}

function findFiles(dir, suffix, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures-generated') continue;
    if (statSync(p).isDirectory()) findFiles(p, suffix, out);
    else if (name.endsWith(suffix)) out.push(relative(root, p));
  }
  return out;
}
const TS_PROJECTS = ['tsconfig.json', 'language-server/tsconfig.json', 'webview/tsconfig.json'];
const selected = (f) => patterns.length === 0 || patterns.some((p) => f.includes(p));

if (process.env.SLAYER_SKIP_SETUP !== '1') {
  const r = run('setup', 'bash', ['scripts/setup.sh']);
  if (r.status !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

let buildOk = true;
if (patterns.length === 0) {
  // The root project checks the whole tree; the server and the views are checked again in their own
  // projects, whose narrower environments (no DOM in the server, no Node in the views) catch more.
  for (const project of TS_PROJECTS) step(`typecheck ${project}`, 'npx', ['tsc', '-p', project, '--noEmit']);
  step('lint', 'npx', ['eslint', '.']);
}
buildOk = step('build', 'node', ['scripts/build.mjs']);

const tsTests = findFiles('test', '.test.ts').filter(selected);
if (tsTests.length && buildOk) {
  const r = run('node tests', process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...tsTests], { capture: true });
  const out = `${r.stdout}\n${r.stderr}`;
  const pass = Number(/ℹ pass (\d+)/.exec(out)?.[1] ?? 0);
  const fail = Number(/ℹ fail (\d+)/.exec(out)?.[1] ?? 0) + (r.status !== 0 && !/ℹ fail [1-9]/.test(out) ? 1 : 0);
  // The spec reporter marks each skipped test or suite with "﹣ name (… ms) # reason".
  const skips = [...out.matchAll(/^\s*﹣ .*?(?: # (.*))?$/gm)].map((m) => m[1] ?? 'skipped');
  for (const why of skips) skipReasons.set(`node: ${why}`, (skipReasons.get(`node: ${why}`) ?? 0) + 1);
  const skipped = Math.max(skips.length, Number(/ℹ skipped (\d+)/.exec(out)?.[1] ?? 0));
  results.push({ name: 'node tests', passed: pass, failed: fail, skipped });
}

const pyTests = findFiles('runner/tests', '.py').filter((f) => /test_[^/]*\.py$/.test(f)).filter(selected);
if (pyTests.length) {
  const modules = pyTests.map((f) => relative('runner', f).replace(/\.py$/, '').replaceAll('/', '.'));
  const r = run('python tests', projectPython(root), ['-m', 'unittest', '-v', ...modules], {
    capture: true, env: { PYTHONPATH: join(root, 'runner'), PYTHONDONTWRITEBYTECODE: '1' },
  });
  // unittest's summary goes to stderr: "Ran N tests" then "OK (skipped=s)" or "FAILED (failures=a, errors=b, skipped=s)";
  // with -v each skipped test's line ends in "skipped 'reason'".
  const err = r.stderr ?? '';
  const ran = Number(/Ran (\d+) tests?/.exec(err)?.[1] ?? 0);
  const bad = Number(/failures=(\d+)/.exec(err)?.[1] ?? 0) + Number(/errors=(\d+)/.exec(err)?.[1] ?? 0);
  const skipped = Number(/skipped=(\d+)/.exec(err)?.[1] ?? 0);
  for (const m of err.matchAll(/ \.\.\. skipped '(.*)'$/gm)) skipReasons.set(`python: ${m[1]}`, (skipReasons.get(`python: ${m[1]}`) ?? 0) + 1);
  const failed = r.status !== 0 && bad === 0 ? 1 : bad;
  results.push({ name: 'python tests', passed: ran - bad - skipped, failed, skipped });
}

console.log('\n=== summary');
for (const r of results) console.log(`${r.name.padEnd(14)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
if (skipReasons.size) {
  console.log('skipped because:');
  for (const [why, n] of [...skipReasons].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(3)}  ${why}`);
}
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
