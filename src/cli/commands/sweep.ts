// `slayer sweep PLAN --host HOST`: the plan's sweep section as one group of runs (one after
// another on a host without a scheduler, parallel jobs on Slurm), streamed with each line marked
// by its variant, then the sweep table. `slayer sweep-table SWEEP --format md|csv`: the table of a
// sweep from the run store (its runs' mirrored events), by sweep id or name (the newest).
import { resolve } from 'node:path';
import { findStatement } from '../../core';
import type { RunnerEvent } from '../../protocol/runnerEvents';
import { buildRunConfig } from '../../remote/runConfigBuilder';
import { RunStore, type RunRecord } from '../../remote/runStore';
import { runSweep, type SweepVariantPlan } from '../../remote/sweepRunner';
import { findSweep, type SweepRecord } from '../../remote/sweepStore';
import { readRunDir } from '../../report/runReport';
import { buildSweepTable, renderSweepTable, type SweepRun, type SweepTableFormat } from '../../report/sweepTable';
import type { CliCommand, CliIo } from '../io';
import { analyzePlanFile } from '../../modelfiles/planFile';
import { formatDiagnostic } from '../../core';
import { describe, makeService, parseArgs, parseDatasets, parsePhases, storeDirOf, str, UsageError, type Args } from './run';

const USAGE = `usage:
  slayer sweep PLAN --host HOST [--tiny] [--max-steps N] [--phases LIST] [--data NAME=PATH]…
               [--calibration PATH] [--parallel | --sequential] [--log]
  slayer sweep-table SWEEP [--format table|md|csv]
common options: --hosts FILE  --ssh-config FILE  --store DIR  --runner DIR (as for slayer run)
sweep: every variant of the plan's sweep section is a run named SWEEP-VARIANT. On a host without a
  scheduler they run one after another; on a Slurm host they are submitted at once (--sequential /
  --parallel choose). A failed variant is recorded and the others go on. Ctrl-C stops the sweep
  after the running variant is detached (it goes on; later variants are not started).
sweep-table: SWEEP is a sweep id (s-…) or name (its newest sweep); one row per variant: expansion,
  blocks, trainable parameters, state, final loss, and each eval task's score with a verdict.`;

const FORMATS: readonly SweepTableFormat[] = ['table', 'md', 'csv'];

/** A sweep's runs as the table reads them: records and their mirrored events. */
export function sweepRunsFrom(store: RunStore): (runId: string) => SweepRun | undefined {
  return (runId) => {
    const record = store.get(runId);
    if (!record) return undefined;
    let events: RunnerEvent[] = [];
    try {
      events = readRunDir(store.runDir(runId)).events;
    } catch {
      // no events mirrored yet (a refused or pending run)
    }
    return { record, events };
  };
}

/** The arguments, or the exit code when there is nothing to run: 2 for a usage error, 0 after --help. */
function argsOrExit(argv: string[], io: CliIo): Args | number {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!args.flags.has('--help')) return args;
  io.out(`${USAGE}\n`);
  return 0;
}

export const sweepCommand: CliCommand = {
  name: 'sweep',
  summary: 'run a plan\'s sweep section as one group of runs: slayer sweep PLAN --host HOST',
  async run(argv, io) {
    const args = argsOrExit(argv, io);
    if (typeof args === 'number') return args;
    try {
      return await dispatchSweep(args, io);
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(`${e.message}\n${USAGE}\n`);
        return 2;
      }
      io.err(`slayer sweep: ${(e as Error).message}\n`);
      return 1;
    }
  },
};

async function dispatchSweep(args: Args, io: CliIo): Promise<number> {
  const planArg = args.positional[0];
  const host = str(args, '--host') ?? str(args, '--on');
  if (!planArg || !host) throw new UsageError('sweep needs PLAN and --host HOST');
  const plan = resolve(planArg);
  const { analysis } = analyzePlanFile(plan);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    io.err(`${errors.map((d) => formatDiagnostic(planArg, analysis, d)).join('\n')}\n`);
    return 1;
  }
  const sweep = analysis.sweep;
  if (!sweep?.name || !sweep.variants.length) throw new UsageError(`${planArg} has no sweep section: add "sweep NAME" with one indented line per variant`);
  const maxSteps = str(args, '--max-steps');
  if (maxSteps !== undefined && !/^[1-9]\d*$/.test(maxSteps)) throw new UsageError(`--max-steps takes a whole number ≥ 1, got "${maxSteps}"`);
  const phases = str(args, '--phases');
  const baseTrain = findStatement(analysis.ast, 'train')?.value.text || 'new, final';
  const { service, settingsFor, close } = makeService(args);
  let stopping = false;
  let stop = (): void => undefined;
  // Ctrl-C: the followed runs are detached (they go on), their follow ends, later variants are not started.
  const stopped = new Promise<void>((r) => (stop = r));
  const onInt = () => {
    stopping = true;
    io.err('\n» stopping the sweep: the running variant goes on detached (slayer attach), later ones are not started\n');
    for (const r of service.store.list()) service.detach(r.id);
    stop();
  };
  process.once('SIGINT', onInt);
  try {
    const settings = settingsFor(host);
    const variants: SweepVariantPlan[] = sweep.variants.map((v) => ({
      name: v.name, layerMap: v.layerMap!, train: v.overrides.train ?? baseTrain,
      runConfig: buildRunConfig(v.layerMap!, settings, {
        tinyModel: args.flags.has('--tiny'), maxSteps: maxSteps ? Number(maxSteps) : null, datasets: parseDatasets(args.data),
        ...(phases !== undefined ? { phases: parsePhases(phases) } : {}), calibration: str(args, '--calibration') ?? null,
      }),
    }));
    const parallel = args.flags.has('--parallel') || (settings.scheduler === 'slurm' && !args.flags.has('--sequential'));
    const showLog = args.flags.has('--log');
    io.err(`» sweep ${sweep.name}: ${variants.length} variants on ${host}, ${parallel ? 'in parallel' : 'one after another'}\n`);
    const result = await runSweep(service, {
      host, name: sweep.name, planFile: plan, variants, parallel,
      secrets: process.env.HF_TOKEN ? { HF_TOKEN: process.env.HF_TOKEN } : {},
      onStep: (variant, step, detail) => io.err(step === 'start' || step === 'end' ? `» ${detail}\n` : `»   [${variant}] ${detail}\n`),
      shouldContinue: () => !stopping,
      follow: (rec: RunRecord) => {
        const tag = `[${rec.sweep?.variant ?? rec.id}]`;
        const monitor = service.attach(rec.id, {
          onEvents: (_id, events) => {
            for (const e of events) {
              const line = e.kind === 'progress' ? '' : describe(e);
              if (line) io.out(`${tag} ${line}\n`);
            }
          },
          onLog: (_id, lines) => {
            if (showLog) io.out(lines.map((l) => `${tag}   | ${l}\n`).join(''));
          },
          onNotice: (_id, msg) => io.err(`» ${tag} ${msg}\n`),
        });
        return Promise.race([monitor.finished, stopped.then(() => service.store.get(rec.id) ?? rec)]);
      },
    });
    const table = buildSweepTable(result, sweepRunsFrom(service.store));
    io.out(`\n${renderSweepTable(table, 'table')}`);
    const states = result.variants.map((v) => (v.runId ? service.store.get(v.runId)?.state : undefined));
    const ok = states.filter((s) => s === 'succeeded').length;
    io.err(`» sweep ${result.id}: ${ok} of ${states.length} variants succeeded${ok < states.length ? ` (${failedNames(result, states).join(', ')} did not)` : ''}; slayer sweep-table ${result.id} --format md\n`);
    return stopping ? 130 : ok === states.length ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', onInt);
    await close();
  }
}

function failedNames(sweep: SweepRecord, states: readonly (string | undefined)[]): string[] {
  return sweep.variants.filter((_, i) => states[i] !== 'succeeded').map((v) => v.name);
}

export const sweepTableCommand: CliCommand = {
  name: 'sweep-table',
  summary: 'a sweep\'s results, one row per variant: slayer sweep-table SWEEP --format md|csv',
  async run(argv, io) {
    const args = argsOrExit(argv, io);
    if (typeof args === 'number') return args;
    const which = args.positional[0];
    const format = (str(args, '--format') ?? 'table') as SweepTableFormat;
    if (!which || !FORMATS.includes(format)) {
      io.err(`${!which ? 'sweep-table needs a SWEEP (id or name)' : `--format takes ${FORMATS.join(', ')}`}\n${USAGE}\n`);
      return 2;
    }
    const dir = storeDirOf(args);
    const sweep = findSweep(dir, which);
    if (!sweep) {
      io.err(`slayer sweep-table: no sweep "${which}" in ${dir}\n`);
      return 1;
    }
    io.out(renderSweepTable(buildSweepTable(sweep, sweepRunsFrom(new RunStore(dir))), format));
    return 0;
  },
};
