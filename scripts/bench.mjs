#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.ts (and bench/*.bench.py with the project venv's Python) in turn.
// Each benchmark prints its own figures and its ratio against a baseline measured in the same run.
// `npm run bench -- PATTERN` runs only the benchmarks whose file name contains PATTERN.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectPython } from './lib/projectPython.mjs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const patterns = process.argv.slice(2);
const files = existsSync('bench') ? readdirSync('bench').filter((f) => /\.bench\.(ts|py)$/.test(f)).sort() : [];
let failed = 0;
spawnSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
for (const f of files.filter((f) => patterns.length === 0 || patterns.some((p) => f.includes(p)))) {
  console.log(`\n### ${f}`);
  const r = f.endsWith('.py')
    ? spawnSync(projectPython(root), [join('bench', f)], { stdio: 'inherit', env: { ...process.env, PYTHONPATH: join(root, 'runner') } })
    : spawnSync(process.execPath, ['--import', 'tsx', join('bench', f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
