// `slayer` CLI entry. Each command is its own module in src/cli/commands; add one line to COMMANDS.
import { checkCommand } from './commands/check';
import { compareCommand } from './commands/compare';
import { compileCommand } from './commands/compile';
import { explainCommand } from './commands/explain';
import { inspectCommand } from './commands/inspect';
import { lspCommand } from './commands/lsp';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { suggestCommand } from './commands/suggest';
import { sweepCommand, sweepTableCommand } from './commands/sweep';
import { compilePlanFile } from '../modelfiles/planFile';
import type { CliCommand, CliIo } from './io';

const runFamily = (name: 'run' | 'runs' | 'attach' | 'cancel' | 'eval', summary: string): CliCommand => ({
  name,
  summary,
  run: (argv, io) => runCommand(name, argv, io, { compilePlan: compilePlanFile }),
});

export const COMMANDS: CliCommand[] = [
  checkCommand,
  compileCommand,
  explainCommand,
  inspectCommand,
  lspCommand,
  runFamily('run', 'run a plan on a host: slayer run PLAN --on HOST'),
  runFamily('runs', 'list runs'),
  runFamily('attach', 'resume streaming a run'),
  runFamily('cancel', 'cancel a run'),
  runFamily('eval', 'evaluate a plan\'s base model without training: slayer eval PLAN --on HOST'),
  compareCommand,
  reportCommand,
  suggestCommand,
  sweepCommand,
  sweepTableCommand,
];

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: slayer COMMAND [ARGS…]\n\n${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}\n\nslayer COMMAND --help for a command's options.\n`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    io.out('slayer 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`slayer: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return cmd.run(rest, io);
}

/** Runs the CLI on this process's arguments and terminal (bin/slayer.js calls this). */
export function cli(): void {
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), isTty: Boolean(process.stdout.isTTY) };
  main(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => { process.stderr.write(`slayer: ${(e as Error).stack ?? String(e)}\n`); process.exitCode = 1; },
  );
}
