// Language server latency: keystroke → diagnostics over real JSON-RPC (stdio) on a 500-line plan,
// debounce 0. Reports p50/p95 of the server-side time (change applied, analysed, diagnostics
// converted and handed to the transport; from `slayer/diagnosticsTiming`) and of the client's
// round trip, against the plan core's analyzePlan of the same text measured in this process.
// Goal: p95 < 10 ms server-side.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { DiagnosticsTimingNotification, type DiagnosticsTimingParams } from '../src/protocol/languageServer';
import { LspClient, ROOT } from '../test/language-server/lspClient';

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (xs: number[]): string => `p50 ${pct(xs, 50).toFixed(3)} ms  p95 ${pct(xs, 95).toFixed(3)} ms`;

const lines = ['model meta-llama/Llama-2-7b-hf', 'expand (2+1)x8 | 13 | 1◇', 'train new, final, head'];
for (let i = 0; lines.length < 500; i++) {
  lines.push('', `stage ${i === 0 ? 'cpt' : `sft${i}`}${i === 0 ? '' : ' sft'}`, `  data corpus-${i}: 5, code-${i}/python: 2`, '  tokens 30B', '  lr 2e-4 cosine warmup 2%', '  batch 1024 x 4096', '  precision bf16  weight-decay 0.1  clip 1.0  # comment');
}
const text = lines.slice(0, 500).join('\n');
const WARMUP = 30;
const RUNS = 300;

async function main(): Promise<void> {
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  // Baseline: the core alone, in this process, bundled by esbuild as the server is (tsx's
  // transform would add per-call overhead the server does not have).
  const dir = mkdtempSync(join(tmpdir(), 'slayer-bench-'));
  buildSync({ entryPoints: [join(ROOT, 'src', 'core', 'index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: join(dir, 'core.js'), logLevel: 'warning' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { analyzePlan } = require(join(dir, 'core.js')) as typeof import('../src/core');
  rmSync(dir, { recursive: true, force: true });
  const core: number[] = [];

  const c = await LspClient.start({ initializationOptions: { reportTimings: true }, settings: { 'slayer.languageServer': { debounceMs: 0 } } });
  const timings = new Map<number, DiagnosticsTimingParams>();
  c.conn.onNotification(DiagnosticsTimingNotification, (t) => void timings.set(t.version, t));
  const uri = 'untitled:bench.slayer';
  const opened = c.diagnostics(uri, 1);
  await c.open(uri, text);
  await opened;
  const server: number[] = [];
  const analyze: number[] = [];
  const roundTrip: number[] = [];
  // Each keystroke rewrites one digit of the expansion ("13" ↔ "12"): the whole layout changes.
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const v = i + 2;
    const digit = i % 2 === 0 ? '2' : '3';
    const p = c.diagnostics(uri, v);
    const t0 = performance.now();
    await c.change(uri, v, [{ range: { start: { line: 1, character: 18 }, end: { line: 1, character: 19 } }, text: digit }]);
    await p;
    const rt = performance.now() - t0;
    await new Promise((r) => setImmediate(r));
    const t = timings.get(v);
    // The baseline at the same cadence: the core on the same text, in this process.
    const edited = text.replace('| 13 |', `| 1${digit} |`);
    const c0 = performance.now();
    analyzePlan(edited);
    const coreMs = performance.now() - c0;
    if (i >= WARMUP && t) {
      core.push(coreMs);
      roundTrip.push(rt);
      server.push(t.serverMs);
      analyze.push(t.analyzeMs);
    }
  }
  await c.stop();
  console.log(`500-line plan (${text.length} chars), ${RUNS} keystrokes after ${WARMUP} warm-up, debounce 0`);
  console.log(`baseline analyzePlan (bundled) in this process: ${fmt(core)}`);
  console.log(`server: analyzePlan inside the server:      ${fmt(analyze)}`);
  console.log(`server-side keystroke → diagnostics sent:   ${fmt(server)}   (goal p95 < 10 ms)`);
  console.log(`client round trip (JSON-RPC over stdio):    ${fmt(roundTrip)}`);
  console.log(`ratio server-side / analyzePlan (p50): ${(pct(server, 50) / pct(core, 50)).toFixed(2)}x; round trip / analyzePlan (p50): ${(pct(roundTrip, 50) / pct(core, 50)).toFixed(2)}x`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
