// `slayer run PLAN --on HOST` (dispatch and stream to the terminal), `slayer runs` (list),
// `slayer attach RUN` (resume streaming), `slayer cancel RUN`. Same RunService and registry
// persistence as the editor, in the CLI's own store directory.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { validateLayerMap, type LayerMap } from '../../protocol/layerMap';
import { EVAL_WHEN } from '../../protocol/evalPlan';
import { RUN_PHASES, type RunConfig, type RunPhase } from '../../protocol/runConfig';
import type { RunnerEvent } from '../../protocol/runnerEvents';
import { hostSettingsFrom, type HostSettings } from '../../remote/hostSettings';
import { buildRunConfig } from '../../remote/runConfigBuilder';
import { runLabel } from '../../remote/runLabel';
import { DoctorError, RunService } from '../../remote/runService';
import { RunStore, type RunRecord } from '../../remote/runStore';
import { TransportPool } from '../../remote/transportFactory';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  isTty: boolean;
}

export interface RunCommandDeps {
  /** Compiles a .slayer plan file to a LayerMap (supplied by the CLI entry from src/core). */
  compilePlan?: (path: string) => LayerMap | Promise<LayerMap>;
}

const USAGE = `usage:
  slayer run PLAN --on HOST [--tiny] [--max-steps N] [--phases LIST] [--data NAME=PATH]…
             [--calibration PATH] [--detach] [--log]
  slayer runs [--cached]
  slayer attach RUN_ID [--log]
  slayer cancel RUN_ID
  slayer eval PLAN --on HOST [--when base,expanded] [--tiny] [--data NAME=PATH]… [--detach] [--log]
common options: --hosts FILE (per-host settings JSON, default ~/.config/slayer/hosts.json)
  --ssh-config FILE   --store DIR (default ~/.local/share/slayer)   --runner DIR (slayer_runner package)
--tiny: random weights of the plan's base shape instead of the checkpoint (demos, smoke runs).
runs: asks each host once for the state of its unfinished runs first; --cached lists the records
  as last seen, without connecting (offline).
--phases: comma-separated, in order, from doctor,surgery,importance,train,eval (default doctor,surgery,train,
  and eval when the plan has an eval section).
--data: where a dataset named in the plan lives on the host (repeatable); --calibration: the text
  or token file for importance (default: the runner's bundled sample text).
eval: the plan's eval section without training — the base model by default (its scores are cached
  on the host), or the expanded model with --when expanded (surgery runs first).
HOST is an SSH alias (resolved by OpenSSH: ~/.ssh/config, Include, ProxyJump) or localhost.
Secrets: HF_TOKEN from the environment is passed to the runner through stdin, never argv.`;

export interface Args {
  positional: string[];
  flags: Map<string, string | true>;
  /** Repeated `--data NAME=PATH` values, in order. */
  data: string[];
}

export function parsePhases(value: string): RunPhase[] {
  const phases = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of phases) {
    if (!RUN_PHASES.includes(p as RunPhase)) throw new UsageError(`unknown phase "${p}" (phases: ${RUN_PHASES.join(', ')})`);
  }
  if (phases.length === 0) throw new UsageError('--phases needs at least one phase');
  return phases as RunPhase[];
}

export function parseDatasets(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--data needs NAME=PATH, got "${v}"`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  const data: string[] = [];
  const valued = new Set(['--on', '--host', '--format', '--when', '--max-steps', '--hosts', '--ssh-config', '--store', '--runner', '--phases', '--data', '--calibration']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      let name = a;
      let value: string | true = true;
      if (eq > 0) {
        name = a.slice(0, eq);
        value = a.slice(eq + 1);
      } else if (valued.has(a)) {
        const v = argv[++i];
        if (v === undefined) throw new UsageError(`${a} needs a value`);
        value = v;
      }
      if (name === '--data') {
        if (typeof value !== 'string') throw new UsageError('--data needs NAME=PATH');
        data.push(value);
      } else flags.set(name, value);
    } else positional.push(a);
  }
  return { positional, flags, data };
}

export class UsageError extends Error {}

export function str(args: Args, flag: string): string | undefined {
  const v = args.flags.get(flag);
  return typeof v === 'string' ? v : undefined;
}

/** The slayer_runner package shipped next to this code (dist/ or src/ layouts). */
function findRunner(): string {
  for (let d = __dirname; d !== dirname(d); d = dirname(d)) {
    const p = join(d, 'runner', 'slayer_runner');
    if (existsSync(p)) return p;
  }
  throw new Error('cannot find runner/slayer_runner; pass --runner DIR');
}

/** The CLI's run store: --store, else $XDG_DATA_HOME/slayer (~/.local/share/slayer). */
export function storeDirOf(args: Args): string {
  return str(args, '--store') ?? join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'slayer');
}

export function makeService(args: Args): { service: RunService; settingsFor: (host: string) => HostSettings; close(): Promise<void> } {
  const hostsFile = str(args, '--hosts') ?? join(homedir(), '.config', 'slayer', 'hosts.json');
  const hosts = existsSync(hostsFile) ? (JSON.parse(readFileSync(hostsFile, 'utf8')) as Record<string, unknown>) : {};
  const settingsFor = (host: string): HostSettings => hostSettingsFrom(host, hosts[host]);
  const pool = new TransportPool(settingsFor, str(args, '--ssh-config'));
  const store = new RunStore(storeDirOf(args));
  const service = new RunService(store, { runnerDir: str(args, '--runner') ?? findRunner(), transportFor: (h) => pool.get(h), settingsFor });
  return { service, settingsFor, close: async () => {
    service.dispose();
    await pool.closeAll();
  } };
}

export async function runCommand(command: 'run' | 'runs' | 'attach' | 'cancel' | 'eval', argv: string[], io: CliIo, deps: RunCommandDeps = {}): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.flags.has('--help')) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const { service, settingsFor, close } = makeService(args);
  try {
    switch (command) {
      case 'run':
        return await dispatchAndStream(service, settingsFor, args, io, deps);
      case 'eval':
        return await dispatchAndStream(service, settingsFor, args, io, deps, true);
      case 'runs':
        if (!args.flags.has('--cached')) {
          for (const h of await service.refreshStates()) {
            if (h.error) io.err(`slayer runs: ${h.host} did not answer (${h.error}); its ${h.runs} unfinished run(s) show their last known state\n`);
          }
        }
        listRuns(service, io);
        return 0;
      case 'attach': {
        const id = args.positional[0];
        if (!id) throw new UsageError('attach needs a RUN_ID');
        return await stream(service, id, args, io);
      }
      case 'cancel': {
        const id = args.positional[0];
        if (!id) throw new UsageError('cancel needs a RUN_ID');
        io.out(`${await service.cancel(id)}\n`);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    io.err(`slayer ${command}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await close();
  }
}

async function loadPlan(path: string, deps: RunCommandDeps): Promise<LayerMap> {
  if (path.endsWith('.slayer')) {
    if (!deps.compilePlan) throw new Error('this build cannot compile .slayer plans; pass a LayerMap JSON (slayer compile PLAN)');
    return deps.compilePlan(path);
  }
  return validateLayerMap(JSON.parse(readFileSync(path, 'utf8')));
}

/** `slayer eval`: the plan's evaluation only, of the base (default) and/or the expanded model. */
function evalOnly(layerMap: LayerMap, args: Args): { phases: RunPhase[]; eval: NonNullable<RunConfig['eval']> } {
  if (!layerMap.evaluation) throw new UsageError('the plan has no eval section: add one (e.g. "eval" with "  domain gsm8k")');
  const when = (str(args, '--when') ?? 'base').split(',').map((w) => w.trim()).filter((w) => w !== '');
  for (const w of when) if (w !== 'base' && w !== 'expanded') throw new UsageError(`slayer eval evaluates base and/or expanded, got "${w}" (after training, slayer run evaluates)`);
  if (!when.length) throw new UsageError('--when needs base and/or expanded');
  const phases: RunPhase[] = ['doctor', ...(when.includes('expanded') ? (['surgery'] as const) : []), 'eval'];
  return { phases, eval: { ...layerMap.evaluation, when: EVAL_WHEN.filter((w) => when.includes(w)) } };
}

async function dispatchAndStream(service: RunService, settingsFor: (host: string) => HostSettings, args: Args, io: CliIo, deps: RunCommandDeps, evaluateOnly = false): Promise<number> {
  const plan = args.positional[0];
  const host = str(args, '--on');
  if (!plan || !host) throw new UsageError(`${evaluateOnly ? 'eval' : 'run'} needs PLAN and --on HOST`);
  const layerMap = await loadPlan(resolve(plan), deps);
  const maxSteps = str(args, '--max-steps');
  if (maxSteps !== undefined && !/^[1-9]\d*$/.test(maxSteps)) throw new UsageError(`--max-steps takes a whole number ≥ 1, got "${maxSteps}"`);
  const phases = str(args, '--phases');
  const only = evaluateOnly ? evalOnly(layerMap, args) : null;
  const built = buildRunConfig(layerMap, settingsFor(host), {
    tinyModel: args.flags.has('--tiny'),
    maxSteps: maxSteps ? Number(maxSteps) : null,
    datasets: parseDatasets(args.data),
    ...(phases !== undefined ? { phases: parsePhases(phases) } : {}),
    calibration: str(args, '--calibration') ?? null,
  });
  const runConfig = only ? { ...built, ...only } : built;
  let rec: RunRecord;
  try {
    rec = await service.dispatch({
      host, layerMap, runConfig, planFile: resolve(plan), label: runLabel(layerMap, plan.endsWith('.slayer') ? resolve(plan) : null),
      secrets: process.env.HF_TOKEN ? { HF_TOKEN: process.env.HF_TOKEN } : {},
      onStep: (_step, detail) => io.err(`» ${detail}\n`),
    });
  } catch (e) {
    if (e instanceof DoctorError) {
      io.err(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  io.err(`» run ${rec.id} ${rec.jobId ? `(Slurm job ${rec.jobId}) ` : ''}in ${rec.remoteDir} on ${host}\n`);
  if (args.flags.has('--detach')) {
    io.out(`${rec.id}\n`);
    return 0;
  }
  return stream(service, rec.id, args, io);
}

async function stream(service: RunService, id: string, args: Args, io: CliIo): Promise<number> {
  const showLog = args.flags.has('--log');
  let lastProgress = '';
  const clearProgress = () => {
    if (io.isTty && lastProgress) io.err('\r\x1b[K');
    lastProgress = '';
  };
  const monitor = service.attach(id, {
    onEvents: (_id, events) => {
      for (const e of events) {
        const line = describe(e);
        if (e.kind === 'progress' && io.isTty) {
          lastProgress = line;
          io.err(`\r\x1b[K${line}`);
        } else if (line) {
          clearProgress();
          io.out(`${line}\n`);
        }
      }
    },
    onLog: (_id, lines) => {
      if (!showLog) return;
      clearProgress();
      io.out(lines.map((l) => `  | ${l}\n`).join(''));
    },
    onNotice: (_id, msg) => {
      clearProgress();
      io.err(`» ${msg}\n`);
    },
  });
  const onInt = () => {
    io.err(`\n» detached; the run continues. Re-attach with: slayer attach ${id}\n`);
    service.detach(id);
    process.exit(130);
  };
  process.once('SIGINT', onInt);
  try {
    const final = await monitor.finished;
    clearProgress();
    io.err(`» ${final.state}${final.exitCode !== null ? ` (exit ${final.exitCode})` : ''}\n`);
    return final.state === 'succeeded' ? 0 : final.state === 'cancelled' ? 130 : 1;
  } finally {
    process.removeListener('SIGINT', onInt);
  }
}

export function describe(e: RunnerEvent): string {
  switch (e.kind) {
    case 'metric':
      return `[${e.stage}] step ${e.step} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} ${Math.round(e.tokens_per_s)} tok/s`;
    case 'progress':
      return `[${e.phase}] ${e.done}/${e.total} ${e.unit}${e.eta_s !== null ? ` ETA ${Math.round(e.eta_s)} s` : ''}`;
    case 'phase':
      return `== ${e.phase} ${e.state}${e.detail ? `: ${e.detail}` : ''}`;
    case 'log':
      return e.level === 'debug' ? '' : `${e.level === 'info' ? '' : `${e.level}: `}${e.msg}`;
    case 'artifact':
      return `artifact ${e.name}: ${e.path}`;
    case 'error':
      return `error${e.where ? ` in ${e.where}` : ''}: ${e.message}${e.traceback ? `\n${e.traceback}` : ''}`;
    case 'importance':
      return `importance ${e.metric}: ${e.values.map((v) => v.toFixed(3)).join(' ')}`;
    case 'done':
      return `done: ${e.status}`;
    case 'eval':
      return `eval ${e.model} ${e.group} ${e.task} ${e.metric} ${formatScore(e.value, e.source)}${e.cached ? ' (cached)' : ''}`;
  }
}

function formatScore(value: number, source: 'harness' | 'perplexity'): string {
  return source === 'perplexity' ? value.toFixed(3) : `${(100 * value).toFixed(2)}%`;
}

function listRuns(service: RunService, io: CliIo): void {
  const runs = service.store.list();
  if (runs.length === 0) {
    io.out('no runs\n');
    return;
  }
  for (const r of runs) {
    const loss = r.lastLoss === null ? '' : ` loss ${r.lastLoss.toFixed(4)}`;
    const name = r.name ? `${r.name}  ` : '';
    io.out(`${r.id}  ${r.host}  ${r.state}${r.exitCode !== null ? `(${r.exitCode})` : ''}${loss}  ${name}${r.label}\n`);
  }
}
