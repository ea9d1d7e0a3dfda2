// Runs the real `npm run package` script on the bundles the test command just built.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './codeServer';

export interface PackageReport {
  vsix: string;
  bytes: number;
  files: number;
  entries: string[];
  problems: string[];
}

export function packageVsix(out: string): PackageReport {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), '--skip-build', '--json', '--out', out], { encoding: 'utf8' });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  if (!line.startsWith('{')) throw new Error(`scripts/package.mjs failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line) as PackageReport;
}
