// Persistence of the run registry, free of `vscode` so the CLI shares it: runs.json (records,
// written atomically) and, per run, local mirrors of events.jsonl and runner.log. A mirror's
// length IS the resume offset, so offsets can never disagree with what was kept: after an editor
// restart streaming resumes from the mirror's end, with no gap and no duplicate.
import { appendFileSync, existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, statSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunState } from './runStatus';
import { checkRunId } from './runScripts';

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
}

const STORE_VERSION = 1;

export class RunStore {
  private records = new Map<string, RunRecord>();

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'runs'), { recursive: true });
    const file = join(dir, 'runs.json');
    if (existsSync(file)) {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { v: number; runs: RunRecord[] };
      if (parsed.v === STORE_VERSION) for (const r of parsed.runs) this.records.set(r.id, r);
    }
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
    this.save();
  }

  update(id: string, patch: Partial<RunRecord>): RunRecord | undefined {
    const r = this.records.get(id);
    if (!r) return undefined;
    const next = { ...r, ...patch };
    this.records.set(id, next);
    this.save();
    return next;
  }

  remove(id: string): void {
    this.records.delete(id);
    rmSync(this.runDir(id), { recursive: true, force: true });
    this.save();
  }

  private save(): void {
    const file = join(this.dir, 'runs.json');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ v: STORE_VERSION, runs: [...this.records.values()] }, null, 1));
    renameSync(tmp, file);
  }

  runDir(id: string): string {
    return join(this.dir, 'runs', checkRunId(id));
  }

  mirrorPath(id: string, file: 'events.jsonl' | 'runner.log'): string {
    return join(this.runDir(id), file);
  }

  /**
   * The resume offset of a mirror: its length after cutting any incomplete last line (left by a
   * crash in the middle of an append).
   */
  mirrorOffset(id: string, file: 'events.jsonl' | 'runner.log'): number {
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

  appendMirror(id: string, file: 'events.jsonl' | 'runner.log', lines: string[]): void {
    mkdirSync(this.runDir(id), { recursive: true });
    appendFileSync(this.mirrorPath(id, file), lines.map((l) => `${l}\n`).join(''));
  }

  readMirror(id: string, file: 'events.jsonl' | 'runner.log'): string {
    const p = this.mirrorPath(id, file);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }
}
