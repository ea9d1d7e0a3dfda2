// Answers "what is the checkpoint at host:/path?" for the language server's remote-model hook:
// one SSH round trip per (host, path) running a scan command (the header scan from
// src/modelfiles/remoteScan.ts), cached, with concurrent requests sharing the one in flight.
import { checkpointScan, type RemoteCheckpoint } from '../modelfiles/remoteScan';
import type { Transport } from './transport';

export interface RemoteScan<T> {
  /** The shell script that prints everything needed about the checkpoint at `path`. */
  command(path: string): string;
  /** Turns the script's stdout into the answer; throws on malformed output. */
  parse(stdout: Buffer): T;
}

export interface RemoteModelRef {
  host: string;
  path: string;
}

/** `gpu1:/models/llama-3-8b` → { host: 'gpu1', path: '/models/llama-3-8b' }; null if not remote. */
export function parseRemoteModelRef(ref: string): RemoteModelRef | null {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*):((?:~\/|\/).*)$/.exec(ref);
  return m ? { host: m[1]!, path: m[2]! } : null;
}

export class RemoteModelError extends Error {
  constructor(readonly ref: RemoteModelRef, detail: string) {
    super(`${ref.host}:${ref.path}: ${detail}`);
    this.name = 'RemoteModelError';
  }
}

interface Entry<T> {
  at: number;
  value: Promise<T>;
}

export class RemoteModelCache<T> {
  private entries = new Map<string, Entry<T>>();

  constructor(
    private readonly transportFor: (host: string) => Transport,
    private readonly scan: RemoteScan<T>,
    private readonly ttlMs = 10 * 60_000,
    private readonly timeoutMs = 30_000,
  ) {}

  get(ref: RemoteModelRef, now = Date.now()): Promise<T> {
    const key = `${ref.host}\0${ref.path}`;
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = this.fetch(ref);
    this.entries.set(key, { at: now, value });
    // Failures are not cached: the next request tries again (host back, file copied…).
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  invalidate(host?: string): void {
    for (const k of [...this.entries.keys()]) if (!host || k.startsWith(`${host}\0`)) this.entries.delete(k);
  }

  private async fetch(ref: RemoteModelRef): Promise<T> {
    const r = await this.transportFor(ref.host).exec(this.scan.command(ref.path), { timeoutMs: this.timeoutMs });
    if (r.code !== 0) throw new RemoteModelError(ref, r.stderr.trim() || `scan exited with ${r.code}`);
    try {
      return this.scan.parse(r.stdout);
    } catch (e) {
      throw new RemoteModelError(ref, (e as Error).message);
    }
  }
}

/**
 * The cache the language server uses for `host:/path` models: config.json and the safetensors
 * header of every shard in one remote command, inspected (see src/modelfiles/remoteScan.ts).
 */
export function createCheckpointCache(transportFor: (host: string) => Transport, ttlMs?: number, timeoutMs?: number): RemoteModelCache<RemoteCheckpoint> {
  return new RemoteModelCache(transportFor, checkpointScan, ttlMs, timeoutMs);
}
