// The in-editor suite's entry: the `run()` that VS Code's extension-test runner calls inside the
// extension host (code-server's here, a desktop VS Code's under @vscode/test-electron).
// Loads every *.suite.js beside it into mocha; when $SLAYER_SUITE_RESULTS names a file, writes
// each test's outcome there as JSON so the node:test wrapper can report them one by one.
import Mocha from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Outcome {
  title: string;
  state: 'passed' | 'failed' | 'skipped';
  ms?: number;
  error?: string;
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.suite.js')).sort()) mocha.addFile(join(__dirname, f));
  if (process.env.SLAYER_SUITE_GREP) mocha.grep(process.env.SLAYER_SUITE_GREP);
  const outcomes: Outcome[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.SLAYER_SUITE_RESULTS;
      if (file) writeFileSync(file, JSON.stringify({ tests: outcomes, failures }, null, 2));
      if (failures > 0) reject(new Error(`${failures} in-editor test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
    runner.on('fail', (t, err: Error) => outcomes.push({ title: t.fullTitle(), state: 'failed', error: err.stack ?? String(err) }));
    runner.on('pending', (t) => outcomes.push({ title: t.fullTitle(), state: 'skipped' }));
  });
}
