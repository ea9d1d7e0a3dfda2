// `slayer compare RUN_DIR… [--format table|md|csv]`: the eval phase's scores of one or more runs
// against their base model, a row per task and a verdict per run — the paper's table from real runs.
import { basename, resolve } from 'node:path';
import { compareRuns, evalScores, renderComparison, type CompareFormat } from '../../shared/evalCompare';
import { readRunDir } from '../../report/runReport';
import type { CliCommand } from '../io';

const USAGE = `usage: slayer compare RUN_DIR… [--format table|md|csv]
Each RUN_DIR holds events.jsonl with eval scores (a localhost run directory, or one fetched from a
host). The base model's scores come from the first run that has them; each run is judged by its
final model (else its last stage, else the expanded model). --format md writes a paper-ready table.`;

const FORMATS: readonly CompareFormat[] = ['table', 'md', 'csv'];

export const compareCommand: CliCommand = {
  name: 'compare',
  summary: 'compare runs\' evaluation scores with their base: slayer compare RUN_DIR…',
  async run(argv, io) {
    if (argv.includes('--help')) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    let format: CompareFormat = 'table';
    const dirs: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--format' || a.startsWith('--format=')) {
        const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
        if (!v || !FORMATS.includes(v as CompareFormat)) {
          io.err(`--format takes ${FORMATS.join(', ')}\n${USAGE}\n`);
          return 2;
        }
        format = v as CompareFormat;
      } else if (a.startsWith('--')) {
        io.err(`unknown option ${a}\n${USAGE}\n`);
        return 2;
      } else dirs.push(a);
    }
    if (!dirs.length) {
      io.err(`${USAGE}\n`);
      return 2;
    }
    const runs = [];
    for (const d of dirs) {
      try {
        const scores = evalScores(readRunDir(resolve(d)).events);
        if (!scores.length) {
          io.err(`slayer compare: ${d} has no eval scores (does its plan have an eval section?)\n`);
          return 1;
        }
        runs.push({ run: basename(resolve(d)), scores });
      } catch (e) {
        io.err(`slayer compare: ${(e as Error).message}\n`);
        return 1;
      }
    }
    io.out(renderComparison(compareRuns(runs), format));
    return 0;
  },
};
