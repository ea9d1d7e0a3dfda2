#!/usr/bin/env node
// Bundles every entry point with esbuild. Node bundles are CommonJS (what VS Code's extension host
// and `node` load without flags); webview bundles are browser IIFEs with chart.js inlined, so no
// webview ever loads code from outside the extension. `--watch` rebuilds on change. The @slayer/…
// imports of language-server/ and webview/ resolve through the `paths` of tsconfig.base.json, which
// esbuild reads from each file's nearest tsconfig.json (and what it extends).
import * as esbuild from 'esbuild';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeEntries = {
  extension: 'src/extension/extension.ts',
  server: 'language-server/server.ts',
  cli: 'src/cli/main.ts',
};
const webviewEntries = Object.fromEntries(readdirSync('webview').filter((f) => /^[a-zA-Z]+View\.ts$/.test(f)).map((f) => [f.replace(/\.ts$/, ''), `webview/${f}`]));

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
// A missing entry point is a broken tree, not something to build around.
const missing = Object.values(nodeEntries).filter((f) => !existsSync(f));
if (missing.length) {
  console.error(`build: missing entry point${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  process.exit(1);
}
if (Object.keys(webviewEntries).length === 0) {
  console.error('build: no webview entry points (webview/*View.ts)');
  process.exit(1);
}
const builds = [
  { ...common, entryPoints: nodeEntries, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] },
  { ...common, entryPoints: webviewEntries, outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022' },
];
mkdirSync('dist', { recursive: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
