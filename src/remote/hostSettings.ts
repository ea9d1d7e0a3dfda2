// Per-host settings: how to get a Python with torch, where runs live, which scheduler. They come
// from the user's settings (`slayer.hosts`) and are only ever used quoted on the remote side.
import { ATTN_IMPLEMENTATIONS, MODEL_BACKENDS, type AttnImplementation, type ModelBackend } from '../protocol/runConfig';
import type { HostKeyPolicy } from './sshTransport';

export interface SlurmSettings {
  partition: string | null;
  account: string | null;
  /** Slurm time limit, e.g. `04:00:00`. */
  time: string | null;
  /** Put all tasks of a multi-node launch on one node (try the multi-node path on one machine). */
  packTasksOnOneNode: boolean;
}

export interface HostSettings {
  /** SSH alias as in ~/.ssh/config, or `localhost` for the embedded local target. */
  host: string;
  /** Python interpreter with torch on the host. */
  python: string;
  /** Optional script sourced before running Python (a venv's bin/activate, a module setup file). */
  activate: string | null;
  /** Directory holding one sub-directory per run; `~/` means the remote home. */
  workDir: string;
  scheduler: 'none' | 'slurm';
  slurm: SlurmSettings;
  gpusPerNode: number;
  hostKeyPolicy: HostKeyPolicy;
  /** Model backend on this host (run.json `backend`). */
  backend: ModelBackend;
  /** Attention kernel of the transformers backend on this host (run.json `attn_implementation`). */
  attnImplementation: AttnImplementation;
}

export const LOCALHOST = 'localhost';

export function defaultHostSettings(host: string): HostSettings {
  return {
    host,
    python: 'python3',
    activate: null,
    workDir: '~/.slayer/runs',
    scheduler: 'none',
    slurm: { partition: null, account: null, time: null, packTasksOnOneNode: false },
    gpusPerNode: 0,
    hostKeyPolicy: 'strict',
    backend: 'auto',
    attnImplementation: 'auto',
  };
}

export class HostSettingsError extends Error {
  constructor(host: string, message: string) {
    super(`settings for host "${host}": ${message}`);
    this.name = 'HostSettingsError';
  }
}

/** Merges a user-provided object (from settings.json, untyped) over the defaults, checking types. */
export function hostSettingsFrom(host: string, raw: unknown): HostSettings {
  const d = defaultHostSettings(host);
  if (raw === undefined || raw === null) return d;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new HostSettingsError(host, 'must be an object');
  const r = raw as Record<string, unknown>;
  const str = (k: string, fallback: string): string => {
    const v = r[k];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || v === '') throw new HostSettingsError(host, `"${k}" must be a non-empty string`);
    return v;
  };
  const optStr = (o: Record<string, unknown>, k: string): string | null => {
    const v = o[k];
    if (v === undefined || v === null || v === '') return null;
    if (typeof v !== 'string') throw new HostSettingsError(host, `"${k}" must be a string`);
    return v;
  };
  const scheduler = r.scheduler ?? 'none';
  if (scheduler !== 'none' && scheduler !== 'slurm') throw new HostSettingsError(host, '"scheduler" must be "none" or "slurm"');
  const slurmRaw = (r.slurm ?? {}) as Record<string, unknown>;
  const gpus = r.gpusPerNode ?? 0;
  if (!Number.isInteger(gpus) || (gpus as number) < 0) throw new HostSettingsError(host, '"gpusPerNode" must be a whole number ≥ 0');
  const policy = r.hostKeyPolicy ?? 'strict';
  if (policy !== 'strict' && policy !== 'accept-new') throw new HostSettingsError(host, '"hostKeyPolicy" must be "strict" or "accept-new"');
  const backend = r.backend ?? 'auto';
  if (!MODEL_BACKENDS.includes(backend as ModelBackend)) throw new HostSettingsError(host, `"backend" must be one of ${MODEL_BACKENDS.join(', ')}`);
  const attn = r.attnImplementation ?? 'auto';
  if (!ATTN_IMPLEMENTATIONS.includes(attn as AttnImplementation)) throw new HostSettingsError(host, `"attnImplementation" must be one of ${ATTN_IMPLEMENTATIONS.join(', ')}`);
  return {
    host,
    python: str('python', d.python),
    activate: optStr(r, 'activate'),
    workDir: str('workDir', d.workDir),
    scheduler,
    slurm: {
      partition: optStr(slurmRaw, 'partition'),
      account: optStr(slurmRaw, 'account'),
      time: optStr(slurmRaw, 'time'),
      packTasksOnOneNode: slurmRaw.packTasksOnOneNode === true,
    },
    gpusPerNode: gpus as number,
    hostKeyPolicy: policy,
    backend: backend as ModelBackend,
    attnImplementation: attn as AttnImplementation,
  };
}
