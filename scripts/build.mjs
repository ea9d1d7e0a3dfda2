#!/usr/bin/env node
// Bundles every entry point with esbuild. Node bundles are CommonJS (what VS Code's extension host
// and `node` load without flags); webview bundles are browser IIFEs with chart.js inlined, so no
// webview ever loads code from outside the extension. `--watch` rebuilds on change.
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
const webviewEntries = existsSync('webview')
  ? Object.fromEntries(readdirSync('webview').filter((f) => /^[a-zA-Z]+View\.ts$/.test(f)).map((f) => [f.replace(/\.ts$/, ''), `webview/${f}`]))
  : {};

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
const builds = [];
const present = Object.fromEntries(Object.entries(nodeEntries).filter(([, f]) => existsSync(f)));
if (Object.keys(present).length) {
  builds.push({ ...common, entryPoints: present, outdir: 'dist', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
}
if (Object.keys(webviewEntries).length) {
  builds.push({ ...common, entryPoints: webviewEntries, outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022' });
}
mkdirSync('dist', { recursive: true });
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  console.log('watching…');
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
