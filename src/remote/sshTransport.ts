// SSH transport over the system OpenSSH client, so the user's agent, ProxyJump, Include and
// known_hosts all apply. One control master per host multiplexes every command (ControlMaster=auto),
// and host keys are always verified: StrictHostKeyChecking=yes by default, `accept-new` only when
// the user opts in; a changed key is refused either way.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCollect, spawnStream } from './childProcessIo';
import { resolveHost } from './hostConfig';
import { shQuote } from '../shared/shellQuote';
import type { ExecOptions, ExecResult, StreamHandle, Transport } from './transport';

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface SshTransportOptions {
  /** `-F` config file; undefined = ~/.ssh/config. */
  configFile?: string;
  hostKeyPolicy?: HostKeyPolicy;
  /** Directory for control sockets; keep it short (socket paths are limited to ~104 bytes). */
  controlDir?: string;
  /** Seconds between keep-alives on the master; a dead link is noticed after interval × count. */
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  controlPersist?: number;
}

export class HostKeyError extends Error {
  constructor(
    readonly host: string,
    readonly kind: 'unknown' | 'changed',
    readonly fingerprint: string | null,
    readonly detail: string,
  ) {
    const fp = fingerprint ? ` The server presented ${fingerprint}.` : '';
    super(kind === 'changed'
      ? `Host key for "${host}" has CHANGED and does not match known_hosts; refusing to connect.${fp} If the change is expected, remove the old key (ssh-keygen -R) and verify the new fingerprint out of band.`
      : `Host key for "${host}" is not known, so it cannot be verified; refusing to connect.${fp} Verify the fingerprint with the host's administrator, then connect once with ssh to add it to known_hosts (or set slayer host "hostKeyPolicy": "accept-new").`);
    this.name = 'HostKeyError';
  }
}

const MUX_RACE = /mux_client_request_session|master hello exchange failed|Control socket connect.*(refused|No such file)/;

/** Short commands in flight on slot 0 (status polls of many runs, cancel, upload). */
const EXECS_AT_ONCE = 6;

/** Long-lived sessions per control master; sshd refuses the 11th by default (MaxSessions 10). */
const STREAMS_PER_MASTER = 8;

export class SshTransport implements Transport {
  private readonly controlDir: string;
  /** Open streams per master slot (index 0 unused: slot 0 is for short commands). */
  private readonly streamsPerSlot: number[] = [0];

  constructor(
    readonly name: string,
    private readonly options: SshTransportOptions = {},
  ) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
    this.controlDir = options.controlDir ?? join(tmpdir(), `slayer-ssh-${uid}`);
    mkdirSync(this.controlDir, { recursive: true, mode: 0o700 });
  }

  /** The ssh options every command uses; exported for the CLI's `--print-ssh` and the tests. */
  sshArgs(extra: string[] = [], slot = 0): string[] {
    const o = this.options;
    // ssh keeps the first value it sees for an option, so overrides (`extra`) go first.
    return [
      ...extra,
      ...(o.configFile ? ['-F', o.configFile] : []),
      '-o', 'BatchMode=yes',
      '-o', `StrictHostKeyChecking=${o.hostKeyPolicy === 'accept-new' ? 'accept-new' : 'yes'}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${this.controlPath(slot)}`,
      '-o', `ControlPersist=${o.controlPersist ?? 120}`,
      '-o', `ServerAliveInterval=${o.serverAliveInterval ?? 5}`,
      '-o', `ServerAliveCountMax=${o.serverAliveCountMax ?? 3}`,
      '-o', `ConnectTimeout=${o.connectTimeout ?? 15}`,
      '-T',
      '--', this.name,
    ];
  }

  /**
   * ssh's %C hashes host, port and user only, so two aliases for one server (with different
   * known_hosts or policies) would share a master and skip each other's host-key check. The
   * prefix keeps one master per alias + config + policy. `slot` picks one of several masters:
   * slot 0 serves short commands, slots 1… serve long-lived streams, at most STREAMS_PER_MASTER
   * each, so many attached runs never hit sshd's MaxSessions (default 10) on one connection.
   */
  private controlPath(slot = 0): string {
    const o = this.options;
    const key = createHash('sha256').update(`${this.name}\0${o.configFile ?? ''}\0${o.hostKeyPolicy ?? 'strict'}`).digest('hex').slice(0, 10);
    return join(this.controlDir, `${key}${slot ? `.${slot}` : ''}-%C`);
  }

  private remote(script: string): string {
    // ssh hands one string to the login shell; `sh -c` then gives every host the same POSIX shell.
    return `exec sh -c ${shQuote(script)}`;
  }

  /** At most EXECS_AT_ONCE short commands share slot 0's master; the rest wait their turn. */
  private execsRunning = 0;
  private readonly execQueue: (() => void)[] = [];

  async exec(script: string, options?: ExecOptions): Promise<ExecResult> {
    if (this.execsRunning >= EXECS_AT_ONCE) await new Promise<void>((resolve) => this.execQueue.push(resolve));
    this.execsRunning++;
    try {
      return await this.execNow(script, options);
    } finally {
      this.execsRunning--;
      this.execQueue.shift()?.();
    }
  }

  private async execNow(script: string, options?: ExecOptions): Promise<ExecResult> {
    let r = await spawnCollect('ssh', [...this.sshArgs(), this.remote(script)], options);
    // A master that is just shutting down (ControlPersist expiry, `-O exit` from another process)
    // drops new sessions before they start; nothing ran remotely, so one retry is safe. Not with
    // a stream as stdin: it may have been partly consumed.
    const replayable = options?.stdin === undefined || typeof options.stdin === 'string' || Buffer.isBuffer(options.stdin);
    if (r.code === 255 && replayable && MUX_RACE.test(r.stderr)) {
      await new Promise((res) => setTimeout(res, 200));
      r = await spawnCollect('ssh', [...this.sshArgs(), this.remote(script)], options);
    }
    if (r.code === 255) await this.throwIfHostKey(r.stderr);
    return r;
  }

  stream(script: string, onData: (chunk: Buffer) => void): StreamHandle {
    let slot = this.streamsPerSlot.findIndex((n, i) => i > 0 && n < STREAMS_PER_MASTER);
    if (slot < 0) slot = this.streamsPerSlot.push(0) - 1;
    this.streamsPerSlot[slot]!++;
    const handle = spawnStream('ssh', [...this.sshArgs([], slot), this.remote(script)], onData);
    const ended = handle.ended.then(async (r) => {
      this.streamsPerSlot[slot]!--;
      if (r.code === 255) await this.throwIfHostKey(r.stderr);
      return r;
    });
    return { ended, stop: handle.stop };
  }

  /** Where this alias really goes, as OpenSSH resolves it (no network). */
  describe(): Promise<string> {
    return resolveHost(this.name, { configFile: this.options.configFile }).then(
      (h) => `${h.user}@${h.hostname}:${h.port}${h.proxyJump ? ` via ${h.proxyJump}` : ''}`,
    );
  }

  /** Opens (or reuses) the master connection; throws HostKeyError / connection errors early. */
  async connect(): Promise<void> {
    const r = await this.exec('true', { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`cannot connect to ${this.name}: ${r.stderr.trim() || `ssh exit ${r.code}`}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.streamsPerSlot.map((_, slot) =>
      spawnCollect('ssh', this.sshArgs(['-O', 'exit'], slot), { timeoutMs: 10_000 }).catch(() => undefined)));
  }

  private async throwIfHostKey(stderr: string): Promise<void> {
    if (!/Host key verification failed/.test(stderr)) return;
    const kind = /REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr) ? 'changed' : 'unknown';
    let fingerprint = /(SHA256:[A-Za-z0-9+/=]+)/.exec(stderr)?.[1] ?? null;
    if (!fingerprint) {
      // ssh names the fingerprint only in verbose mode ("Server host key: ssh-ed25519 SHA256:…"),
      // so ask once more, without multiplexing, just to put it in the message.
      const v = await spawnCollect('ssh', [...this.sshArgs(['-v', '-o', 'ControlMaster=no', '-o', 'ControlPath=none']), 'true'], { timeoutMs: 30_000 });
      const m = /Server host key: (\S+) (SHA256:[A-Za-z0-9+/=]+)/.exec(v.stderr);
      if (m) fingerprint = `${m[1]} ${m[2]}`;
    }
    throw new HostKeyError(this.name, kind, fingerprint, stderr.trim());
  }
}
