// What a status poll says about a run, and the run state derived from it.

export type RunState = 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'lost';

export const FINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'cancelled', 'lost'];
export const isFinal = (s: RunState): boolean => FINAL_STATES.includes(s);

export interface RemoteRunStatus {
  runId: string;
  missing: boolean;
  pid: number | null;
  alive: boolean;
  startedAt: number | null;
  cancelRequested: boolean;
  eventsSize: number;
  logSize: number;
  exitCode: number | null;
  slurmState: string | null;
  slurmExit: string | null;
  jobId: string | null;
  /** squeue could be asked (false: controller unreachable, so an empty state means nothing). */
  slurmOk: boolean;
}

/** Parses statusScript output (blocks of key=value lines ending with `end`). */
export function parseStatusOutput(text: string): RemoteRunStatus[] {
  const out: RemoteRunStatus[] = [];
  let cur: Map<string, string> | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('run=')) cur = new Map([['run', line.slice(4)]]);
    else if (line === 'end' && cur) {
      const int = (k: string): number | null => {
        const v = cur!.get(k)?.trim();
        return v && /^-?\d+$/.test(v) ? Number(v) : null;
      };
      out.push({
        runId: cur.get('run') ?? '',
        missing: cur.get('missing') === '1',
        pid: int('pid'),
        alive: cur.get('alive') === '1',
        startedAt: int('started_at'),
        cancelRequested: cur.get('cancel_requested') === '1',
        eventsSize: int('events_size') ?? 0,
        logSize: int('log_size') ?? 0,
        exitCode: int('exit_code'),
        slurmState: cur.get('slurm_state') || null,
        slurmExit: cur.get('slurm_exit') || null,
        jobId: cur.get('jobid') || null,
        slurmOk: cur.get('slurm_ok') === '1',
      });
      cur = null;
    } else if (cur) {
      const eq = line.indexOf('=');
      if (eq > 0) cur.set(line.slice(0, eq), line.slice(eq + 1));
    }
  }
  return out;
}

/**
 * The state a status implies. `doneStatus` is the runner's own `done` event when it was read;
 * it wins over the exit code (a runner that caught SIGTERM says "cancelled").
 */
export function stateFromStatus(s: RemoteRunStatus, doneStatus: 'succeeded' | 'failed' | 'cancelled' | null): RunState {
  if (s.missing) return 'lost';
  if (s.exitCode !== null) {
    if (s.cancelRequested || s.slurmState === 'CANCELLED') return 'cancelled';
    if (doneStatus) return doneStatus;
    return s.exitCode === 0 ? 'succeeded' : 'failed';
  }
  if (s.slurmState) {
    if (['PENDING', 'CONFIGURING', 'REQUEUED', 'RESV_DEL_HOLD', 'REQUEUE_HOLD', 'SUSPENDED'].includes(s.slurmState)) return 'queued';
    return 'running';
  }
  if (s.alive) return 'running';
  // A Slurm job we could not ask about is not lost: the controller may be restarting.
  if (s.jobId && !s.slurmOk) return s.startedAt !== null ? 'running' : 'queued';
  // Slurm jobs that aged out of squeue and never wrote exit_code, or a wrapper killed with SIGKILL.
  if (s.pid !== null || s.startedAt !== null) return 'lost';
  return 'queued';
}
