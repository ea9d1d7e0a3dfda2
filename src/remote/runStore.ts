// Persistence of the run registry, free of `vscode` so the CLI shares it. Per run, in
// DIR/runs/ID/: record.json (written atomically), local mirrors of events.jsonl and runner.log,
// and monitor.lock. A mirror's length IS the resume offset, so offsets can never disagree with
// what was kept: after an editor restart streaming resumes from the mirror's end, with no gap and
// no duplicate. Several editor windows share one store: each writes only the records it changes,
// and only the holder of a run's monitor.lock streams that run (others read its mirror).
import {
  appendFileSync, closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SweepRef } from '../protocol/runConfig';
import type { RunState } from './runStatus';
import { checkRunId, RUN_ID_PATTERN } from './runScripts';

export interface RunRecord {
  id: string;
  /** Free text shown in the UI; never used in a path or a shell. */
  label: string;
  host: string;
  planFile: string | null;
  /** Run directory on the host as configured (may start with `~/`). */
  remoteDir: string;
  scheduler: 'none' | 'slurm';
  jobId: string | null;
  pid: number | null;
  state: RunState;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  exitCode: number | null;
  lastStep: number | null;
  lastLoss: number | null;
  etaS: number | null;
  message: string | null;
  /** Short readable name (`demo-3`), editable; older records have none and show their label. */
  name?: string | null;
  /** Index into RUN_COLORS (runIdentity.ts): the run's colour everywhere it is drawn. */
  color?: number | null;
  /** The plan's model reference, to find runs (and measurements) of the same model. */
  model?: string | null;
  /** The phases the run was started with. */
  phases?: string[] | null;
  /** The sweep this run is a variant of (run.json's `sweep`); the Runs view groups by its id. */
  sweep?: SweepRef | null;
  /**
   * False until a window has told the user how the run ended (older records: absent). A run that
   * ends while no window shows it — during a reload, say — is announced by the next window.
   */
  endSeen?: boolean | null;
}

/** The name a run is shown by: its own name, or the label of records from before names existed. */
export function runDisplayName(r: Pick<RunRecord, 'name' | 'label'>): string {
  return r.name || r.label;
}

export type MirrorFile = 'events.jsonl' | 'runner.log';

const RECORD_VERSION = 1;

export class RunStore {
  private records = new Map<string, RunRecord>();
  private dirty = new Set<string>();
  private saveTimer: NodeJS.Timeout | null = null;
  private locks = new Set<string>();

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'runs'), { recursive: true });
    this.reload();
  }

  /**
   * Re-reads every record from disk (records other windows or processes wrote), keeping our own
   * unsaved lazy patches. Returns true when anything changed.
   */
  reload(): boolean {
    const next = new Map<string, RunRecord>();
    for (const id of readdirSync(join(this.dir, 'runs'))) {
      if (!RUN_ID_PATTERN.test(id)) continue;
      if (this.dirty.has(id) && this.records.has(id)) {
        next.set(id, this.records.get(id)!);
        continue;
      }
      try {
        const parsed = JSON.parse(readFileSync(join(this.runDir(id), 'record.json'), 'utf8')) as { v: number; record: RunRecord };
        if (parsed.v === RECORD_VERSION && parsed.record.id === id) next.set(id, parsed.record);
      } catch {
        // a run directory without a readable record (being created or removed)
      }
    }
    const changed = next.size !== this.records.size
      || [...next].some(([id, r]) => JSON.stringify(r) !== JSON.stringify(this.records.get(id)));
    this.records = next;
    return changed;
  }

  list(): RunRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  get(id: string): RunRecord | undefined {
    return this.records.get(id);
  }

  put(record: RunRecord): void {
    checkRunId(record.id);
    this.records.set(record.id, { ...record });
    this.save(record.id);
  }

  /**
   * Patches a record. `lazy` patches (last step/loss/ETA, many per second on a fast run) are
   * written within a second; anything else is written at once. Losing a lazy patch in a crash
   * costs nothing: the events that carried it are in the mirror.
   */
  update(id: string, patch: Partial<RunRecord>, lazy = false): RunRecord | undefined {
    const r = this.records.get(id);
    if (!r) return undefined;
    const next = { ...r, ...patch };
    this.records.set(id, next);
    if (!lazy) this.save(id);
    else {
      this.dirty.add(id);
      if (!this.saveTimer) {
        this.saveTimer = setTimeout(() => this.flush(), 1000);
        this.saveTimer.unref?.();
      }
    }
    return next;
  }

  /** Writes pending lazy patches now. */
  flush(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    for (const id of [...this.dirty]) this.save(id);
  }

  remove(id: string): void {
    this.releaseMonitorLock(id);
    this.records.delete(id);
    this.dirty.delete(id);
    rmSync(this.runDir(id), { recursive: true, force: true });
  }

  private save(id: string): void {
    this.dirty.delete(id);
    const r = this.records.get(id);
    if (!r) return;
    mkdirSync(this.runDir(id), { recursive: true });
    const file = join(this.runDir(id), 'record.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: RECORD_VERSION, record: r }, null, 1));
    renameSync(tmp, file);
  }

  /**
   * Takes the right to stream a run (and append to its mirrors). Held by a live process → false.
   * A lock left by a dead process is taken over, so a crashed window's runs are picked up.
   */
  acquireMonitorLock(id: string): boolean {
    if (this.locks.has(id)) return true;
    mkdirSync(this.runDir(id), { recursive: true });
    const lock = join(this.runDir(id), 'monitor.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, lockText(process.pid));
        closeSync(fd);
        this.locks.add(id);
        return true;
      } catch {
        const holder = parseLock(readFileSafe(lock));
        if (holder && holder.pid !== process.pid && holderAlive(holder)) return false;
        try {
          unlinkSync(lock);
        } catch {
          // another process took it over first; the next attempt sees its lock
        }
      }
    }
    return false;
  }

  releaseMonitorLock(id: string): void {
    if (!this.locks.delete(id)) return;
    const lock = join(this.runDir(id), 'monitor.lock');
    if (parseLock(readFileSafe(lock))?.pid === process.pid) rmSync(lock, { force: true });
  }

  runDir(id: string): string {
    return join(this.dir, 'runs', checkRunId(id));
  }

  mirrorPath(id: string, file: MirrorFile): string {
    return join(this.runDir(id), file);
  }

  mirrorSize(id: string, file: MirrorFile): number {
    const p = this.mirrorPath(id, file);
    return existsSync(p) ? statSync(p).size : 0;
  }

  /**
   * The resume offset of a mirror: its length after cutting any incomplete last line (left by a
   * crash in the middle of an append).
   */
  mirrorOffset(id: string, file: MirrorFile): number {
    const p = this.mirrorPath(id, file);
    if (!existsSync(p)) return 0;
    const size = statSync(p).size;
    if (size === 0) return 0;
    const data = readFileSync(p);
    const end = data.lastIndexOf(0x0a) + 1;
    if (end !== size) {
      const fd = openSync(p, 'r+');
      try {
        ftruncateSync(fd, end);
      } finally {
        closeSync(fd);
      }
    }
    return end;
  }

  appendMirror(id: string, file: MirrorFile, lines: string[]): void {
    mkdirSync(this.runDir(id), { recursive: true });
    appendFileSync(this.mirrorPath(id, file), lines.map((l) => `${l}\n`).join(''));
  }

  readMirror(id: string, file: MirrorFile, from = 0): string {
    const p = this.mirrorPath(id, file);
    if (!existsSync(p)) return '';
    const data = readFileSync(p);
    return data.subarray(Math.min(from, data.length)).toString('utf8');
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// monitor.lock holds "PID START": the holder's process id and its start time (clock ticks since
// boot, /proc/PID/stat field 22, where /proc exists). The lock is local to this machine (the run
// store's directory), never on the run's host, so /proc here is the one that matters.
interface LockHolder {
  pid: number;
  start: string | null;
}

function lockText(pid: number): string {
  const start = processStat(pid)?.start;
  return start ? `${pid} ${start}` : String(pid);
}

function parseLock(text: string): LockHolder | null {
  const m = /^(\d+)(?: (\d+))?\s*$/.exec(text);
  return m && Number(m[1]) > 0 ? { pid: Number(m[1]), start: m[2] ?? null } : null;
}

/** State letter and start time of a process from /proc/PID/stat; null when it has none (gone) — or undefined without /proc. */
function processStat(pid: number): { state: string; start: string } | null | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "PID (COMM) STATE PPID …": COMM may hold spaces and parentheses, so split after the last ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

/**
 * The lock's holder still runs: a zombie (killed, not yet reaped — `kill(pid, 0)` still succeeds on
 * it) is dead, and so is a live process whose start time differs from the one recorded (the PID was
 * reused). Without /proc, kill(pid, 0) is all there is.
 */
function holderAlive(h: LockHolder): boolean {
  const st = processStat(h.pid);
  if (st === null) return false;
  if (st !== undefined) {
    if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
    return h.start === null || h.start === st.start;
  }
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
