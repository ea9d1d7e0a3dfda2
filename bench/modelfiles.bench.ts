// Model files speed.
// 1. Header scan of a sparse checkpoint with the full shape of Llama-2-70B (80 blocks, 30 shards,
//    138 GB apparent, data regions are holes): readCheckpoint + inspect, median ms (goal < 50 ms),
//    against the bare open/read/close of the same header bytes; and the one-command remote scan
//    run by the local /bin/sh.
// 2. Block similarity over a generated ~1 GB bf16 checkpoint, as a ratio to `cat FILES > /dev/null`
//    of the same files in the same run (both from the page cache after the first pass).
// Everything is generated under os.tmpdir() and deleted at the end.
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockSimilarity, inspect, readCheckpoint } from '../src/modelfiles';
import { scanCommand, checkpointScan } from '../src/modelfiles/remoteScan';
import { writeCheckpoint, type TensorToWrite } from '../test/helpers/safetensorsWriter';
import { LocalTransport } from '../src/remote/localTransport';
import { LLAMA2_70B, llamaConfig, llamaTensors, shardBySize, type LlamaDims } from '../test/modelfiles/helpers';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timeIt(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  return t;
}

async function headerScan(root: string): Promise<void> {
  const dir = join(root, 'llama-2-70b');
  const shards = shardBySize(llamaTensors(LLAMA2_70B, 'BF16', () => null), 4.9e9);
  await writeCheckpoint(dir, shards, llamaConfig(LLAMA2_70B));
  const config = await fsp.readFile(join(dir, 'config.json'), 'utf8');
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));

  const first = (await timeIt(async () => inspect(dir, await readCheckpoint(dir), config), 1))[0]!;
  const full = await timeIt(async () => inspect(dir, await readCheckpoint(dir), await fsp.readFile(join(dir, 'config.json'), 'utf8')), 30);
  // Baseline: the same I/O with no parsing — open, read 8 + N bytes, close, for every shard.
  const bare = await timeIt(() => Promise.all(files.map(async (f) => {
    const fh = await fsp.open(f, 'r');
    const len = Buffer.alloc(8);
    await fh.read(len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    await fh.read(Buffer.alloc(n), 0, n, 8);
    await fh.close();
  })), 30);
  const sh = new LocalTransport();
  const remote = await timeIt(async () => checkpointScan.parse((await sh.exec(scanCommand(dir))).stdout), 5);
  const m = median(full);
  console.log(`70B-shaped sparse checkpoint: ${files.length} shards, 80 blocks`);
  console.log(`  header scan + inspection: median ${m.toFixed(1)} ms over 30 runs (first run ${first.toFixed(1)} ms)  goal < 50 ms: ${m < 50 ? 'met' : 'NOT met'}`);
  console.log(`  baseline open+read+close of the same header bytes: median ${median(bare).toFixed(1)} ms   ratio ${(m / median(bare)).toFixed(2)}x`);
  console.log(`  remote scan script by the local /bin/sh (one command, all shards) + parse: median ${median(remote).toFixed(0)} ms over 5 runs`);
  rmSync(dir, { recursive: true, force: true });
}

/** Finite random bf16 values: random bytes with the exponent's top bit cleared (|x| < 2). */
function randomBf16(numel: number): Uint8Array {
  const b = randomFillSync(new Uint8Array(numel * 2));
  for (let i = 1; i < b.length; i += 2) b[i] = b[i]! & 0xbf;
  return b;
}

async function similarity(root: string): Promise<void> {
  const d: LlamaDims = { layers: 10, hidden: 2048, intermediate: 5504, heads: 16, kvHeads: 4, vocab: 16000 };
  const dir = join(root, 'sim-1gb');
  const specs = llamaTensors(d, 'BF16', () => null);
  // Written shard by shard with data generated per tensor, so the generator never holds the model.
  const shards = shardBySize(specs, 256e6);
  const filled: TensorToWrite[][] = shards.map((s) => s.map((t) => ({ ...t, data: null })));
  await writeCheckpoint(dir, filled, llamaConfig(d));
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.safetensors'))) {
    const c = await readCheckpoint(dir);
    const fh = await fsp.open(join(dir, f), 'r+');
    for (const t of c.tensors.filter((x) => x.shard === f)) await fh.write(randomBf16(t.numel), 0, t.byteLength, t.offset);
    await fh.close();
  }
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors')).map((f) => join(dir, f));
  const c = await readCheckpoint(dir);
  const total = c.tensors.reduce((n, t) => n + t.byteLength, 0);
  const cat = (): void => { execFileSync('/bin/sh', ['-c', 'cat "$@" > /dev/null', 'sh', ...files]); };
  cat(); // warm the page cache so both sides read from memory
  const rssBefore = process.resourceUsage().maxRSS;
  const catTimes: number[] = [];
  const simTimes: number[] = [];
  const simCpu: number[] = [];
  let bytesRead = 0;
  for (let i = 0; i < 3; i++) {
    catTimes.push((await timeIt(async () => cat(), 1))[0]!);
    const cpu0 = process.cpuUsage();
    simTimes.push((await timeIt(async () => { bytesRead = (await blockSimilarity(c)).bytesRead; }, 1))[0]!);
    const cpu = process.cpuUsage(cpu0);
    simCpu.push((cpu.user + cpu.system) / 1000);
  }
  const rssAfter = process.resourceUsage().maxRSS;
  const sim = median(simTimes);
  const base = median(catTimes);
  console.log(`similarity over a ${(total / 1e9).toFixed(2)} GB bf16 checkpoint (${d.layers} blocks, ${files.length} shards; ${(bytesRead / 1e9).toFixed(2)} GB of block matrices compared):`);
  console.log(`  blockSimilarity median ${(sim / 1000).toFixed(2)} s wall, ${(median(simCpu) / 1000).toFixed(2)} s CPU (${(bytesRead / 1e6 / (sim / 1000)).toFixed(0)} MB/s; CPU-bound: decode + dot products in JS)`);
  console.log(`  baseline cat FILES > /dev/null (${(total / 1e9).toFixed(2)} GB) median ${(base / 1000).toFixed(2)} s`);
  console.log(`  ratio similarity / cat: ${(sim / base).toFixed(1)}x`);
  console.log(`  peak RSS before ${(rssBefore / 1024).toFixed(0)} MB, after three similarity passes ${(rssAfter / 1024).toFixed(0)} MB (bounded: no whole-model buffer)`);
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'slayer-mf-bench-'));
  // CPU-bound figures move with the machine's load; the ratios are measured side by side.
  console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  try {
    await headerScan(root);
    await similarity(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

void main();
