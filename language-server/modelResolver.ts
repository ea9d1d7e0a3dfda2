// Model resolution for the plan core's injected I/O, shared by every open document:
//  - local checkpoint directories: config.json read through a cache checked against the file's
//    mtime and size, so a keystroke costs a stat, not a read and a JSON parse;
//  - remote checkpoints (host:/path): answered from a cache; a miss starts one fetch (the client
//    reads the file over SSH, see RemoteModelConfigRequest) and reports "pending"; when the
//    answer arrives, `onChange` fires so documents are checked again.
// Every change of what a model resolves to bumps `epoch`, which keys the analysis cache.
import { statSync } from 'node:fs';
import type { RemoteModelAnswer } from '@slayer/core';
import { MAX_CONFIG_BYTES } from '@slayer/core/limits';
import { FileRefusedError, readRegularFileSync } from '@slayer/modelfiles/regularFile';
import type { CheckpointFinding, RemoteModelConfigResult } from '@slayer/protocol/languageServer';

export type RemoteFetch = (host: string, path: string) => Promise<RemoteModelConfigResult>;

interface LocalEntry {
  mtimeMs: number;
  size: number;
  text: string;
}

interface RemoteEntry {
  answer: RemoteModelAnswer;
  at: number;
}

const REMOTE_OK_TTL_MS = 10 * 60_000;
/** A failed read is shown for this long before the next keystroke tries again. */
const REMOTE_ERROR_TTL_MS = 30_000;

export class ModelResolver {
  epoch = 0;
  private local = new Map<string, LocalEntry>();
  private remote = new Map<string, RemoteEntry>();
  /** What the remote checkpoint's headers say, by `host:path` (the model reference as written). */
  private findings = new Map<string, CheckpointFinding[]>();

  constructor(private readonly onChange: () => void, private fetchRemote?: RemoteFetch) {}

  setRemoteFetch(fetch: RemoteFetch | undefined): void {
    this.fetchRemote = fetch;
    this.remote.clear();
    this.epoch++;
  }

  /** Throws (a message for the `model` line) for a config.json that is too large or not a regular file. */
  readonly readFile = (path: string): string | undefined => {
    let st;
    try {
      st = statSync(path);
    } catch {
      this.local.delete(path);
      return undefined;
    }
    const hit = this.local.get(path);
    if (hit && st.isFile() && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.text;
    this.local.delete(path);
    let text: string | undefined;
    try {
      text = readRegularFileSync(path, MAX_CONFIG_BYTES);
    } catch (e) {
      if (e instanceof FileRefusedError) throw e;
      return undefined;
    }
    if (text !== undefined) this.local.set(path, { mtimeMs: st.mtimeMs, size: st.size, text });
    return text;
  };

  readonly remoteModel = (host: string, path: string): RemoteModelAnswer | undefined => {
    if (!this.fetchRemote) return undefined;
    const key = `${host}\0${path}`;
    const hit = this.remote.get(key);
    const now = Date.now();
    if (hit) {
      const ttl = hit.answer.status === 'ok' ? REMOTE_OK_TTL_MS : hit.answer.status === 'error' ? REMOTE_ERROR_TTL_MS : Infinity;
      if (now - hit.at < ttl) return hit.answer;
    }
    this.remote.set(key, { answer: { status: 'pending' }, at: now });
    this.fetchRemote(host, path).then(
      (r) => {
        this.findings.set(`${host}:${path}`, r.status === 'ok' ? (r.findings ?? []) : []);
        this.settle(key, r.status === 'ok' ? { status: 'ok', configJson: r.configJson } : { status: 'error', message: r.message });
      },
      (e: unknown) => this.settle(key, { status: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return { status: 'pending' };
  };

  /** Header findings of a remote checkpoint (`host:/path`), once its answer came. */
  remoteFindings(ref: string): CheckpointFinding[] {
    return this.findings.get(ref) ?? [];
  }

  /** A watched config.json changed (or was created or deleted): check documents again. */
  fileChanged(path?: string): void {
    if (path) this.local.delete(path);
    else this.local.clear();
    this.epoch++;
  }

  private settle(key: string, answer: RemoteModelAnswer): void {
    this.remote.set(key, { answer, at: Date.now() });
    this.epoch++;
    this.onChange();
  }
}
