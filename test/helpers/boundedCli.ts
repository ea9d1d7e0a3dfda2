// The CLI spawned as a real process with its resources measured: wall time, and peak RSS as the
// child's own process.resourceUsage().maxRSS reports it at exit (a preloaded hook prints it to
// fd 3), so a hostile-input test fails on "works but takes 2 GB" as well as on a hang or a crash.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
const SLAYER = join(ROOT, 'bin', 'slayer.js');

let preload: string | undefined;
function preloadFile(): string {
  if (!preload) {
    preload = join(mkdtempSync(join(tmpdir(), 'slayer-rss-')), 'max-rss.js');
    writeFileSync(preload, "process.on('exit', () => { try { const u = process.resourceUsage(); require('fs').writeSync(3, `${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}`); } catch {} });\n");
  }
  return preload;
}

export interface BoundedResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
  /** Wall time (includes waiting for a busy machine's CPU). */
  ms: number;
  /** CPU time the process used (user + system), in ms; NaN when it died before reporting it. */
  cpuMs: number;
  /** Peak resident set size in MiB; NaN when the process died before reporting it. */
  maxRssMb: number;
}

/** Runs `slayer ARGS…`, killing it after `timeoutMs`. */
export function runSlayer(args: string[], opts: { timeoutMs?: number; cwd?: string; stdin?: string } = {}): Promise<BoundedResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--require', preloadFile(), SLAYER, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let rss = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => { rss += d.toString(); });
    child.stdin!.end(opts.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const [rssKb, cpuUs] = rss ? rss.split(' ').map(Number) : [NaN, NaN];
      resolve({ code, signal, out, err, ms: Date.now() - started, cpuMs: cpuUs! / 1000, maxRssMb: rssKb! / 1024 });
    });
  });
}
