// Spawning helpers shared by the SSH and localhost transports: collect output, feed stdin, stream.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ExecOptions, ExecResult, StreamHandle } from './transport';

export function spawnCollect(cmd: string, args: string[], options: ExecOptions = {}, env?: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 + signalNumber(signal) : 255), stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
    feedStdin(child, options.stdin);
  });
}

function feedStdin(child: ChildProcess, stdin: ExecOptions['stdin']): void {
  const sink = child.stdin;
  if (!sink) return;
  sink.on('error', () => undefined); // the command may exit without reading everything
  if (stdin === undefined) sink.end();
  else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) sink.end(stdin);
  else stdin.pipe(sink);
}

/**
 * A long-lived command whose stdin stays open: closing it is the polite stop (the remote script
 * ends itself, see followScript); the process group is killed if it does not end in time.
 */
export function spawnStream(cmd: string, args: string[], onData: (chunk: Buffer) => void, env?: NodeJS.ProcessEnv): StreamHandle {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env, detached: true });
  const err: Buffer[] = [];
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', onData);
  child.stderr.on('data', (b: Buffer) => {
    if (err.length < 64) err.push(b);
  });
  let closed = false;
  const ended = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    child.on('error', (e) => resolve({ code: null, stderr: e.message }));
    child.on('close', (code) => {
      closed = true;
      resolve({ code, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
  const killGroup = (signal: NodeJS.Signals) => {
    if (closed) return;
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  return {
    ended,
    stop: () => {
      child.stdin.end();
      setTimeout(() => killGroup('SIGTERM'), 2000).unref();
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    },
  };
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return table[signal] ?? 0;
}
