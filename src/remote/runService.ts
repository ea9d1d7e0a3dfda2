// Dispatching and managing runs on hosts — the one implementation behind the editor's commands
// and the `slayer run/runs/attach/cancel` CLI. Steps of a dispatch: pack, upload (tar over the
// transport's stdin), doctor, launch detached (setsid nohup, or sbatch on Slurm hosts), register.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CONTRACT_FILES, RUN_FILES } from '../protocol/contracts';
import type { LayerMap } from '../protocol/layerMap';
import { validateRunConfig, type RunConfig } from '../protocol/runConfig';
import type { HostSettings } from './hostSettings';
import { RunMonitor, type MonitorListener, type MonitorOptions } from './runMonitor';
import {
  cancelScript, checkRunId, deleteScript, doctorScript, fetchScript, launchDetachedScript, launchScript, listScript,
  prepareResumeScript, refusalScript, runDirPath, secretsStdin, slurmJobScript, statusScript, submitSlurmScript, uploadScript,
} from './runScripts';
import { cleanRunName, nextRunIdentity } from './runIdentity';
import { EVENTS_VERSION } from '../protocol/runnerEvents';
import { isFinal, parseStatusOutput, stateFromStatus, type RemoteRunStatus } from './runStatus';
import { runDisplayName, type RunRecord, type RunStore } from './runStore';
import { SshTransport } from './sshTransport';
import { RemoteCommandError, run, type Transport } from './transport';

export type DispatchStep = 'pack' | 'upload' | 'doctor' | 'launch';

export interface DispatchRequest {
  host: string;
  layerMap: LayerMap;
  /** run.json without run_id; the service assigns the id. */
  runConfig: Omit<RunConfig, 'run_id'>;
  label?: string;
  /** The run's name; default the plan's next (`demo-3`). A sweep names its runs `SWEEP-VARIANT`. */
  name?: string;
  planFile?: string | null;
  /** Environment for the runner (e.g. HF_TOKEN): sent on stdin, never on argv or in a file. */
  secrets?: Record<string, string>;
  onStep?(step: DispatchStep, detail: string): void;
}

export class DoctorError extends Error {
  constructor(readonly host: string, readonly report: string, readonly runId: string | null = null, readonly exitCode: number | null = null) {
    super(`the runner's doctor on ${host} says this plan cannot run:\n${report.trim()}`);
    this.name = 'DoctorError';
  }

  /** The doctor's PROBLEM lines (or the last lines the host printed when Python never started). */
  get problems(): string[] {
    const lines = this.report.split('\n').map((l) => l.trim()).filter(Boolean);
    const problems = lines.filter((l) => l.startsWith('PROBLEM: ')).map((l) => l.slice('PROBLEM: '.length));
    return problems.length ? problems : lines.slice(-3);
  }
}

export class RunBusyError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} is already being followed by another window or process`);
    this.name = 'RunBusyError';
  }
}

export interface RunServiceOptions {
  /** Directory holding the `slayer_runner` package to upload. */
  runnerDir: string;
  transportFor(host: string): Transport;
  settingsFor(host: string): HostSettings;
  monitor?: MonitorOptions;
}

export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}

export class RunService {
  private monitors = new Map<string, RunMonitor>();

  constructor(
    readonly store: RunStore,
    private readonly options: RunServiceOptions,
  ) {}

  async dispatch(req: DispatchRequest): Promise<RunRecord> {
    const settings = this.options.settingsFor(req.host);
    const transport = this.options.transportFor(req.host);
    const id = newRunId();
    const config = validateRunConfig({ ...req.runConfig, run_id: id });
    const step = req.onStep ?? (() => undefined);

    step('pack', 'packing runner, LayerMap and run config');
    const tar = await this.pack(settings, config, req.layerMap, req.label ?? id);

    // ssh -G first: a bad alias fails here with OpenSSH's own message, before any connection.
    const where = transport instanceof SshTransport ? ` (${await transport.describe()})` : '';
    step('upload', `uploading ${(tar.length / 1024).toFixed(0)} KiB to ${req.host}${where}`);
    const up = await run(transport, 'upload', uploadScript(settings, id), { stdin: tar, timeoutMs: 300_000 });
    const identity = nextRunIdentity(req.planFile ?? null, this.store.list());
    const record: RunRecord = {
      id, label: req.label ?? id, host: req.host, planFile: req.planFile ?? null,
      remoteDir: runDirPath(settings, id), scheduler: settings.scheduler, jobId: null, pid: null,
      state: 'uploading', createdAt: Date.now(), startedAt: null, finishedAt: null, exitCode: null,
      lastStep: null, lastLoss: null, etaS: null, message: `uploaded to ${up.stdout.toString('utf8').trim()}`,
      name: req.name ?? identity.name, color: identity.color, model: req.layerMap.plan.model, phases: [...config.phases],
      ...(config.sweep ? { sweep: config.sweep } : {}),
      endSeen: false,
    };
    this.store.put(record);

    try {
      step('doctor', `checking the host with the runner's doctor`);
      const doc = await transport.exec(doctorScript(settings, id), { timeoutMs: 300_000 });
      if (doc.code !== 0) {
        const refusal = new DoctorError(req.host, doc.stdout.toString('utf8') + doc.stderr, id, doc.code ?? 1);
        await this.recordRefusal(transport, settings, refusal);
        throw refusal;
      }
      step('launch', settings.scheduler === 'slurm' ? 'submitting with sbatch' : 'starting detached');
      const stdin = secretsStdin(req.secrets ?? {});
      if (settings.scheduler === 'slurm') {
        const r = await run(transport, 'sbatch', submitSlurmScript(settings, id, { nnodes: config.nnodes, nprocPerNode: config.nproc_per_node }), { stdin, timeoutMs: 60_000 });
        const jobId = r.stdout.toString('utf8').trim();
        return this.store.update(id, { state: 'queued', jobId, message: `Slurm job ${jobId}` })!;
      }
      const r = await run(transport, 'launch', launchDetachedScript(settings, id), { stdin, timeoutMs: 60_000 });
      const pid = Number(r.stdout.toString('utf8').trim());
      return this.store.update(id, { state: 'running', pid: Number.isInteger(pid) ? pid : null, startedAt: Date.now(), message: null })!;
    } catch (e) {
      const exitCode = e instanceof DoctorError ? e.exitCode : null;
      // The dispatcher reports this failure to whoever asked (it throws): no window announces it as a run's end.
      this.store.update(id, { state: 'failed', finishedAt: Date.now(), exitCode, message: (e as Error).message, endSeen: true });
      throw e;
    }
  }

  /**
   * Ends a refused run on the host like any failed run (runner.log, error + done events,
   * exit_code) and in the local mirrors, so every reader agrees it failed. Best effort: the
   * refusal itself is what the user must see, even when the host cannot take the note.
   */
  private async recordRefusal(transport: Transport, settings: HostSettings, refusal: DoctorError): Promise<void> {
    const id = refusal.runId!;
    const base = { v: EVENTS_VERSION, t: Date.now() / 1000, run: id };
    const lines = [
      JSON.stringify({ ...base, seq: 0, kind: 'error', message: `doctor refused the run on ${refusal.host}: ${refusal.problems.join('; ')}`, where: 'doctor', traceback: null }),
      JSON.stringify({ ...base, seq: 1, kind: 'done', status: 'failed', exit_code: refusal.exitCode ?? 1 }),
    ];
    const log = refusal.report.endsWith('\n') ? refusal.report : `${refusal.report}\n`;
    try {
      const r = await transport.exec(refusalScript(settings, id, lines.map((l) => `${l}\n`).join(''), refusal.exitCode ?? 1), { stdin: log, timeoutMs: 30_000 });
      if (r.code !== 0) return;
    } catch {
      return;
    }
    // The mirrors hold exactly what the host now holds (their lengths are the stream offsets).
    if (!this.monitors.has(id) && this.store.mirrorSize(id, 'events.jsonl') === 0 && this.store.mirrorSize(id, 'runner.log') === 0) {
      this.store.appendMirror(id, 'runner.log', log.slice(0, -1).split('\n'));
      this.store.appendMirror(id, 'events.jsonl', lines);
    }
  }

  /**
   * Starts a cancelled or failed run again in its own directory; the runner resumes training from
   * its latest checkpoint (and continues events.jsonl). Throws the host's reason when there is none.
   */
  async resume(id: string, secrets: Record<string, string> = {}): Promise<RunRecord> {
    const rec = this.requireRecord(id);
    if (rec.state !== 'cancelled' && rec.state !== 'failed') throw new Error(`${runDisplayName(rec)} is ${rec.state}: only a cancelled or failed run can be resumed`);
    const settings = this.options.settingsFor(rec.host);
    const transport = this.options.transportFor(rec.host);
    this.detach(id);
    await run(transport, 'resume', prepareResumeScript(settings, id), { timeoutMs: 30_000 });
    const stdin = secretsStdin(secrets);
    const reset: Partial<RunRecord> = { finishedAt: null, exitCode: null, etaS: null, message: 'resumed from its latest checkpoint' };
    if (rec.scheduler === 'slurm') {
      const shape = { nnodes: 1, nprocPerNode: Math.max(1, settings.gpusPerNode) };
      const r = await run(transport, 'sbatch', submitSlurmScript(settings, id, shape), { stdin, timeoutMs: 60_000 });
      return this.store.update(id, { ...reset, state: 'queued', jobId: r.stdout.toString('utf8').trim(), pid: null })!;
    }
    const r = await run(transport, 'launch', launchDetachedScript(settings, id), { stdin, timeoutMs: 60_000 });
    const pid = Number(r.stdout.toString('utf8').trim());
    return this.store.update(id, { ...reset, state: 'running', pid: Number.isInteger(pid) ? pid : null, startedAt: Date.now() })!;
  }

  /** Renames a run (its record only: names are for people; the id, directory and files stay). */
  rename(id: string, name: string): RunRecord {
    const clean = cleanRunName(name);
    if (!clean) throw new Error('a run name cannot be empty');
    return this.store.update(this.requireRecord(id).id, { name: clean })!;
  }

  /**
   * Asks each host once (one status call for all its runs) for the state of the runs `filter`
   * picks (default: unfinished) and updates their records. A host that cannot be reached is
   * reported and its records are left as they were.
   */
  async refreshStates(filter: (r: RunRecord) => boolean = (r) => !isFinal(r.state)): Promise<{ host: string; runs: number; error: string | null }[]> {
    const byHost = new Map<string, RunRecord[]>();
    for (const r of this.store.list().filter(filter)) byHost.set(r.host, [...(byHost.get(r.host) ?? []), r]);
    return Promise.all([...byHost].map(async ([host, recs]) => {
      try {
        for (const s of await this.status(host, recs.map((r) => r.id))) {
          const rec = this.store.get(s.runId);
          if (!rec || this.monitors.has(rec.id)) continue;
          const state = stateFromStatus(s, null);
          // A missing directory is lost; a dead process without exit_code needs a monitor's repeated look.
          if (state === rec.state || (state === 'lost' && !s.missing)) continue;
          const patch: Partial<RunRecord> = { state };
          if (s.exitCode !== null || state === 'lost') {
            patch.exitCode = s.exitCode;
            patch.finishedAt = rec.finishedAt ?? Date.now();
          }
          this.store.update(rec.id, patch);
        }
        return { host, runs: recs.length, error: null };
      } catch (e) {
        return { host, runs: recs.length, error: (e as Error).message };
      }
    }));
  }

  /** Builds the upload tarball in memory: runner/slayer_runner, layermap.json, run.json, launch/job script. */
  private async pack(settings: HostSettings, config: RunConfig, layerMap: LayerMap, label: string): Promise<Buffer> {
    if (!existsSync(join(this.options.runnerDir, '__main__.py'))) {
      throw new Error(`the runner package is missing: ${this.options.runnerDir} has no __main__.py`);
    }
    const staging = mkdtempSync(join(tmpdir(), 'slayer-pack-'));
    try {
      mkdirSync(join(staging, RUN_FILES.runner));
      writeRunnerPackage(this.options.runnerDir, join(staging, RUN_FILES.runner, basename(this.options.runnerDir)));
      writeFileSync(join(staging, RUN_FILES.layerMap), `${JSON.stringify(layerMap, null, 1)}\n`);
      writeFileSync(join(staging, RUN_FILES.runConfig), `${JSON.stringify(config, null, 1)}\n`);
      writeFileSync(join(staging, RUN_FILES.label), `${label}\n`);
      if (settings.scheduler === 'slurm') {
        writeFileSync(join(staging, RUN_FILES.slurmJob), slurmJobScript(settings, { nnodes: config.nnodes, nprocPerNode: config.nproc_per_node }), { mode: 0o755 });
      } else {
        writeFileSync(join(staging, RUN_FILES.launchScript), launchScript(settings, config.nproc_per_node), { mode: 0o755 });
      }
      return await collect('tar', ['-czf', '-', '-C', staging, '.']);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /**
   * Starts (or returns) the monitor that streams a run into the store. Throws RunBusyError when
   * another live process (another editor window, a CLI) already streams it.
   */
  attach(id: string, listener: MonitorListener): RunMonitor {
    const m = this.tryAttach(id, listener);
    if (!m) throw new RunBusyError(id);
    return m;
  }

  /** attach() that returns null when another process streams the run. */
  tryAttach(id: string, listener: MonitorListener): RunMonitor | null {
    const existing = this.monitors.get(id);
    if (existing) return existing;
    const rec = this.requireRecord(id);
    if (!this.store.acquireMonitorLock(id)) return null;
    const m = new RunMonitor(this.options.transportFor(rec.host), this.options.settingsFor(rec.host), this.store, id, listener, this.options.monitor);
    this.monitors.set(id, m);
    void m.finished.then(() => {
      if (this.monitors.get(id) === m) {
        this.monitors.delete(id);
        this.store.releaseMonitorLock(id);
      }
    });
    m.start();
    return m;
  }

  /** True when this process streams the run. */
  isAttached(id: string): boolean {
    return this.monitors.has(id);
  }

  detach(id: string): void {
    this.monitors.get(id)?.stop();
    this.monitors.delete(id);
    this.store.releaseMonitorLock(id);
  }

  async cancel(id: string, graceSeconds = 10): Promise<string> {
    const rec = this.requireRecord(id);
    const r = await run(this.options.transportFor(rec.host), 'cancel', cancelScript(this.options.settingsFor(rec.host), id, graceSeconds), { timeoutMs: (graceSeconds + 20) * 1000 });
    return r.stdout.toString('utf8').trim();
  }

  async status(host: string, ids: string[]): Promise<RemoteRunStatus[]> {
    const r = await run(this.options.transportFor(host), 'status', statusScript(this.options.settingsFor(host), ids), { timeoutMs: 30_000 });
    return parseStatusOutput(r.stdout.toString('utf8'));
  }

  /** Run ids present in the host's work directory (also those started from another machine). */
  async listRemote(host: string): Promise<string[]> {
    const r = await run(this.options.transportFor(host), 'list', listScript(this.options.settingsFor(host)), { timeoutMs: 30_000 });
    return r.stdout.toString('utf8').split('\n').filter((l) => l && (() => { try { checkRunId(l); return true; } catch { return false; } })());
  }

  /** Registers a run found on a host (e.g. after `listRemote`) so it can be attached. */
  async adopt(host: string, id: string): Promise<RunRecord> {
    const [s] = await this.status(host, [id]);
    if (!s || s.missing) throw new Error(`no run ${id} on ${host}`);
    const settings = this.options.settingsFor(host);
    const identity = nextRunIdentity(null, this.store.list());
    const record: RunRecord = {
      id, label: id, host, planFile: null, remoteDir: runDirPath(settings, id), scheduler: settings.scheduler, jobId: null,
      pid: s.pid, state: 'running', createdAt: (s.startedAt ?? Date.now() / 1000) * 1000, startedAt: s.startedAt ? s.startedAt * 1000 : null,
      finishedAt: null, exitCode: null, lastStep: null, lastLoss: null, etaS: null, message: null,
      name: identity.name, color: identity.color,
    };
    const st = stateFromStatus(s, null);
    if (st === 'queued') record.state = 'queued';
    this.store.put(record);
    return record;
  }

  /** Downloads out/, events.jsonl, run.json, layermap.json and runner.log into destDir. */
  async fetchArtifacts(id: string, destDir: string): Promise<string> {
    const rec = this.requireRecord(id);
    const r = await run(this.options.transportFor(rec.host), 'fetch', fetchScript(this.options.settingsFor(rec.host), id), { timeoutMs: 600_000 });
    mkdirSync(destDir, { recursive: true });
    await collect('tar', ['-xzf', '-', '-C', destDir, '--no-same-owner'], r.stdout);
    return destDir;
  }

  async deleteRun(id: string): Promise<void> {
    const rec = this.requireRecord(id);
    this.detach(id);
    await run(this.options.transportFor(rec.host), 'delete', deleteScript(this.options.settingsFor(rec.host), id), { timeoutMs: 120_000 });
    this.store.remove(id);
  }

  private requireRecord(id: string): RunRecord {
    const rec = this.store.get(checkRunId(id));
    if (!rec) throw new Error(`unknown run ${id}`);
    return rec;
  }

  dispose(): void {
    for (const id of [...this.monitors.keys()]) this.detach(id);
    this.store.flush();
  }
}

/**
 * Copies the slayer_runner package (without caches and tests) to `dest`, with the contracts this
 * build validates with in dest/contracts/, where the runner looks first (runner/slayer_runner/contracts.py).
 */
export function writeRunnerPackage(runnerDir: string, dest: string): void {
  cpSync(runnerDir, dest, {
    recursive: true,
    filter: (src) => !/(__pycache__|\.pyc$|\/tests?(\/|$))/.test(src.slice(runnerDir.length)),
  });
  mkdirSync(join(dest, 'contracts'), { recursive: true });
  for (const [name, doc] of Object.entries(CONTRACT_FILES)) writeFileSync(join(dest, 'contracts', name), `${JSON.stringify(doc, null, 1)}\n`);
}

function collect(cmd: string, args: string[], stdin?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new RemoteCommandError('localhost', cmd, code ?? -1, err))));
    if (stdin) child.stdin?.end(stdin);
  });
}
