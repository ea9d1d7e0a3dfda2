// `slayer report RUN_DIR [--out DIR]`: a finished (or running) run's curves and layer importance as
// SVG files and one HTML page, plus a terminal summary — for runs looked at without the editor.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { buildRunReport, readRunDir } from '../../report/runReport';
import type { CliCommand } from '../io';

const USAGE = `usage: slayer report RUN_DIR [--out DIR]
RUN_DIR holds events.jsonl (and layermap.json, out/importance.json when present): a localhost run
directory, or one fetched from a host. Writes loss.svg, lr.svg, importance.svg and report.html into
DIR (default RUN_DIR/report) and prints a summary.`;

export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'write a run\'s curves and layer importance as SVG + HTML',
  async run(argv, io) {
    if (argv.includes('--help')) {
      io.out(`${USAGE}\n`);
      return 0;
    }
    let outArg: string | undefined;
    const positional: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      if (a === '--out') {
        outArg = argv[++i];
        if (outArg === undefined) {
          io.err(`--out needs a directory\n${USAGE}\n`);
          return 2;
        }
      } else if (a.startsWith('--')) {
        io.err(`unknown option ${a}\n${USAGE}\n`);
        return 2;
      } else positional.push(a);
    }
    const dir = positional[0];
    if (!dir || positional.length > 1) {
      io.err(`${USAGE}\n`);
      return 2;
    }
    let data;
    try {
      data = readRunDir(resolve(dir));
    } catch (e) {
      io.err(`slayer report: ${(e as Error).message}\n`);
      return 1;
    }
    const out = resolve(outArg ?? join(dir, 'report'));
    const report = buildRunReport(data, `run ${basename(resolve(dir))}`);
    mkdirSync(out, { recursive: true });
    for (const [name, text] of Object.entries(report.files)) writeFileSync(join(out, name), text);
    io.out(`${report.summary.join('\n')}\n`);
    io.out(`wrote ${Object.keys(report.files).map((f) => join(out, f)).join(', ')}\n`);
    return 0;
  },
};
