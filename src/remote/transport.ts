// A transport runs POSIX shell scripts on a host. The SSH transport and the localhost transport
// run the very same scripts, so the localhost target exercises the remote protocol end to end.

export interface ExecOptions {
  /** Bytes fed to the script's stdin (uploads, secrets). Nothing = empty stdin. */
  stdin?: Buffer | string | NodeJS.ReadableStream;
  /** Kills the command after this long. */
  timeoutMs?: number;
}

export interface ExecResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface StreamHandle {
  /** Resolves when the command ends, for whatever reason (exit, dropped link, stop()). */
  readonly ended: Promise<{ code: number | null; stderr: string }>;
  stop(): void;
}

export interface Transport {
  /** A display name: the SSH alias or `localhost`. */
  readonly name: string;
  /** Runs `sh -c SCRIPT` on the host and collects the output. */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  /** Runs a long-lived script (e.g. tail -F) and hands over its stdout bytes as they arrive. */
  stream(script: string, onData: (chunk: Buffer) => void): StreamHandle;
  /** Releases connections (the SSH control master). */
  close(): Promise<void>;
}

export class RemoteCommandError extends Error {
  constructor(
    readonly host: string,
    readonly what: string,
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${what} on ${host} failed (exit ${code})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-5).join('\n')}` : ''}`);
    this.name = 'RemoteCommandError';
  }
}

/** exec that throws RemoteCommandError on a non-zero exit. */
export async function run(t: Transport, what: string, script: string, options?: ExecOptions): Promise<ExecResult> {
  const r = await t.exec(script, options);
  if (r.code !== 0) throw new RemoteCommandError(t.name, what, r.code, r.stderr);
  return r;
}
