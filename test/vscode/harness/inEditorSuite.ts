// The in-editor suite (test/vscode/suite) as the extension host loads it: esbuild bundles each
// `*.suite.ts` and the mocha `run()` index to CommonJS under out/ (inside the project, so
// `require('mocha')` resolves to our node_modules; `vscode` is the host's own module).
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './codeServer';

export const SUITE_SOURCES = join(ROOT, 'test', 'vscode', 'suite');

/** What suite/index.ts writes to $SLAYER_SUITE_RESULTS. */
export interface SuiteResult {
  title: string;
  state: 'passed' | 'failed' | 'skipped';
  ms?: number;
  error?: string;
}
export interface SuiteResults {
  tests: SuiteResult[];
  failures: number;
}

/** Bundles the suite into `outDir` (emptied first); returns the path to pass as extensionTestsPath. */
export async function bundleSuite(outDir: string): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const entries = readdirSync(SUITE_SOURCES).filter((f) => f === 'index.ts' || f.endsWith('.suite.ts')).map((f) => join(SUITE_SOURCES, f));
  await build({
    entryPoints: entries, outdir: outDir, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    external: ['vscode', 'mocha'], sourcemap: 'inline', logLevel: 'warning',
  });
  return join(outDir, 'index.js');
}

export function readResults(file: string): SuiteResults | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as SuiteResults;
}
