// `slayer explain FILE`: a readable table of the resulting blocks and the plan's totals.
import { explainText } from '../../core';
import { analyzePlanFile } from '../../modelfiles/planFile';
import type { CliCommand } from '../io';

export const explainCommand: CliCommand = {
  name: 'explain',
  summary: 'print the resulting blocks, their sources and init, and the totals',
  async run(argv, io) {
    const files = argv.filter((x) => !x.startsWith('-'));
    if (argv.includes('--help') || files.length !== 1) {
      io.out('usage: slayer explain FILE\n');
      return argv.includes('--help') ? 0 : 2;
    }
    const { analysis } = analyzePlanFile(files[0]!);
    io.out(explainText(files[0]!, analysis));
    return analysis.diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  },
};
