// `slayer check FILE…`: diagnostics as file:line:col: severity: message [code]; exit 1 on any error.
import { formatDiagnostic } from '../../core';
import { analyzePlanFile } from '../../modelfiles/planFile';
import type { CliCommand } from '../io';

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'check plans and print diagnostics (exit 1 if any error)',
  async run(argv, io) {
    const verbose = argv.includes('--verbose') || argv.includes('-v');
    const files = argv.filter((a) => !a.startsWith('-'));
    if (argv.includes('--help') || files.length === 0) {
      io.out('usage: slayer check [--verbose] FILE…\n  prints file:line:col: severity: message [code]; --verbose adds info and hints; exit 1 if any error\n');
      return files.length === 0 && !argv.includes('--help') ? 2 : 0;
    }
    let errors = 0;
    for (const file of files) {
      let result;
      try {
        result = analyzePlanFile(file);
      } catch (e) {
        io.err(`${file}: cannot read: ${(e as Error).message}\n`);
        errors++;
        continue;
      }
      const { analysis } = result;
      const shown = analysis.diagnostics
        .filter((d) => verbose || d.severity === 'error' || d.severity === 'warning')
        .sort((a, b) => a.span.start - b.span.start);
      for (const d of shown) io.out(`${formatDiagnostic(file, analysis, d)}\n`);
      errors += analysis.diagnostics.filter((d) => d.severity === 'error').length;
    }
    return errors > 0 ? 1 : 0;
  },
};
