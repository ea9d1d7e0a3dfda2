// Weight-space similarity of adjacent blocks: for blocks i and i+1, the cosine of each pair of
// corresponding weight matrices, and a per-block summary. No GPU, no whole-model buffer: for one
// tensor name at a time, chunk k of that tensor is read from every block in turn, decoded to
// float32, and folded into running float64 sums (‖w_i‖², w_i·w_{i+1}). Each byte is read once and
// memory stays at two raw chunks plus two float32 chunks (≈ 24 bytes × chunk), whatever the model size.
import { groupBlocks, missingBlocks, type Checkpoint, type CheckpointTensor } from './checkpoint';
import { decodeToFloat32 } from './dtype';
import { ShardReader } from './files';
import { blocksLabel } from './inspect';
import { DTYPE_SIZES } from './safetensors';

export interface TensorSimilarity {
  /** Name inside the block, e.g. `self_attn.q_proj.weight`. */
  suffix: string;
  /** cos(w_a, w_b); null when a tensor is all zeros or holds inf/NaN. */
  cosine: number | null;
  params: number;
}

export interface BlockPairSimilarity {
  /** Adjacent blocks a and b = a + 1 (0-based). */
  a: number;
  b: number;
  tensors: TensorSimilarity[];
  /** Mean of the matrices' cosines. */
  meanCosine: number | null;
  /** Cosine of the two blocks as whole flattened vectors (parameter-weighted). */
  blockCosine: number | null;
}

export interface SimilarityReport {
  numLayers: number;
  pairs: BlockPairSimilarity[];
  /** Tensor names left out, and why (not in every block, or shapes differ between blocks). */
  skipped: { suffix: string; reason: string }[];
  bytesRead: number;
  elapsedMs: number;
}

export interface SimilarityOptions {
  /** Elements per chunk (memory ≈ 24 bytes × this at most). Default 64 Ki: cache-sized chunks measured faster than 16 Ki or 256 Ki–1 Mi. */
  chunkElements?: number;
  /** Also compare 1-D tensors (norm gains, biases). Default: weight matrices only. */
  includeVectors?: boolean;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  signal?: AbortSignal;
}

const cos = (dot: number, na: number, nb: number): number | null => {
  const v = dot / Math.sqrt(na * nb);
  return Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : null;
};

// The order a Llama block computes in; anything else after, alphabetically.
const ORDER = ['input_layernorm', 'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'post_attention_layernorm', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'];
function bySuffixOrder(a: string, b: string): number {
  const rank = (s: string): number => { const i = ORDER.findIndex((o) => s.startsWith(`${o}.`)); return i < 0 ? ORDER.length : i; };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Groups block tensors by suffix; keeps those present in every block with one shape. */
function plan(c: Checkpoint, includeVectors: boolean): { numLayers: number; groups: { suffix: string; tensors: CheckpointTensor[] }[]; skipped: SimilarityReport['skipped'] } {
  const blocks = groupBlocks(c.tensors);
  const numLayers = blocks.size;
  const indices = [...blocks.keys()].sort((a, b) => a - b);
  const skipped: SimilarityReport['skipped'] = [];
  const missing = missingBlocks(indices);
  if (missing.length) {
    throw new Error(`adjacent blocks cannot be paired: ${blocksLabel(missing)} ${missing.length === 1 ? 'is' : 'are'} missing`);
  }
  const suffixes = new Set(indices.flatMap((i) => [...blocks.get(i)!.keys()]));
  const groups: { suffix: string; tensors: CheckpointTensor[] }[] = [];
  for (const suffix of [...suffixes].sort(bySuffixOrder)) {
    const ts = indices.map((i) => blocks.get(i)!.get(suffix));
    if (ts.some((t) => !t)) { skipped.push({ suffix, reason: 'not in every block' }); continue; }
    const shape = ts[0]!.shape.join('×');
    if (ts.some((t) => t!.shape.join('×') !== shape)) { skipped.push({ suffix, reason: 'shapes differ between blocks' }); continue; }
    if (ts[0]!.shape.length < 2 && !includeVectors) continue;
    if (ts.some((t) => DTYPE_SIZES[t!.dtype] === undefined)) { skipped.push({ suffix, reason: 'unknown dtype' }); continue; }
    groups.push({ suffix, tensors: ts as CheckpointTensor[] });
  }
  return { numLayers, groups, skipped };
}

// The inner loops, kept small and monomorphic so the JIT compiles them tightly.
function sumSquares(x: Float32Array, n: number): number {
  let s = 0;
  for (let k = 0; k < n; k++) { const v = x[k]!; s += v * v; }
  return s;
}

/** out[0] = Σ a·b, out[1] = Σ b². Four accumulators each, so the additions do not wait on each other. */
function dotAndSquares(a: Float32Array, b: Float32Array, n: number, out: Float64Array): void {
  let d0 = 0, d1 = 0, d2 = 0, d3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const v0 = b[k]!, v1 = b[k + 1]!, v2 = b[k + 2]!, v3 = b[k + 3]!;
    d0 += a[k]! * v0; d1 += a[k + 1]! * v1; d2 += a[k + 2]! * v2; d3 += a[k + 3]! * v3;
    s0 += v0 * v0; s1 += v1 * v1; s2 += v2 * v2; s3 += v3 * v3;
  }
  for (; k < n; k++) { const v = b[k]!; d0 += a[k]! * v; s0 += v * v; }
  out[0] = d0 + d1 + d2 + d3;
  out[1] = s0 + s1 + s2 + s3;
}

/** Cosine similarity of every pair of adjacent blocks, streamed tensor by tensor. */
export async function blockSimilarity(c: Checkpoint, options: SimilarityOptions = {}): Promise<SimilarityReport> {
  const started = performance.now();
  const chunk = Math.max(1, Math.floor(options.chunkElements ?? 1 << 16));
  const { numLayers, groups, skipped } = plan(c, options.includeVectors ?? false);
  const total = groups.reduce((n, g) => n + g.tensors.reduce((m, t) => m + t.byteLength, 0), 0);
  // Two raw buffers: the read of block l + 1's chunk runs (in libuv's pool) while block l's is decoded.
  let raw = Buffer.allocUnsafe(chunk * 8);
  let nextRaw = Buffer.allocUnsafe(chunk * 8);
  let prev = new Float32Array(chunk);
  let cur = new Float32Array(chunk);
  const reader = new ShardReader(c);
  const sums = new Float64Array(2);
  // Per pair: per-suffix sums, and the totals over the pair's matrices.
  const pairs: BlockPairSimilarity[] = [];
  for (let a = 0; a + 1 < numLayers; a++) pairs.push({ a, b: a + 1, tensors: [], meanCosine: null, blockCosine: null });
  const blockDot = new Float64Array(Math.max(0, numLayers - 1));
  const blockNorm = new Float64Array(numLayers);
  try {
    for (const g of groups) {
      const numel = g.tensors[0]!.numel;
      const norm = new Float64Array(numLayers);
      const dot = new Float64Array(Math.max(0, numLayers - 1));
      for (let e = 0; e < numel; e += chunk) {
        const n = Math.min(chunk, numel - e);
        const readInto = (l: number, into: Buffer): Promise<void> => {
          const t = g.tensors[l]!;
          const size = DTYPE_SIZES[t.dtype]!;
          return reader.read(t, e * size, into, n * size);
        };
        let pending = readInto(0, raw);
        for (let l = 0; l < numLayers; l++) {
          await pending;
          if (options.signal?.aborted) throw new Error('similarity cancelled');
          if (l + 1 < numLayers) pending = readInto(l + 1, nextRaw);
          decodeToFloat32(g.tensors[l]!.dtype, raw, n, cur);
          if (l === 0) norm[0]! += sumSquares(cur, n);
          else {
            dotAndSquares(prev, cur, n, sums);
            dot[l - 1]! += sums[0]!;
            norm[l]! += sums[1]!;
          }
          [prev, cur] = [cur, prev];
          [raw, nextRaw] = [nextRaw, raw];
        }
        options.onProgress?.(reader.bytesRead, total);
      }
      for (let a = 0; a + 1 < numLayers; a++) {
        pairs[a]!.tensors.push({ suffix: g.suffix, cosine: cos(dot[a]!, norm[a]!, norm[a + 1]!), params: numel });
        blockDot[a]! += dot[a]!;
      }
      for (let l = 0; l < numLayers; l++) blockNorm[l]! += norm[l]!;
    }
  } finally {
    await reader.close();
  }
  for (const p of pairs) {
    const cs = p.tensors.map((t) => t.cosine).filter((x): x is number => x !== null);
    p.meanCosine = cs.length ? cs.reduce((s, x) => s + x, 0) / cs.length : null;
    p.blockCosine = p.tensors.length ? cos(blockDot[p.a]!, blockNorm[p.a]!, blockNorm[p.b]!) : null;
  }
  return { numLayers, pairs, skipped, bytesRead: reader.bytesRead, elapsedMs: performance.now() - started };
}

/**
 * The report as chart series over the L − 1 adjacent pairs (x = "a–b"), for the importance view
 * when no measured importance exists yet.
 */
export function similaritySeries(s: SimilarityReport): { labels: string[]; blockCosine: (number | null)[]; meanCosine: (number | null)[]; bySuffix: Record<string, (number | null)[]> } {
  const bySuffix: Record<string, (number | null)[]> = {};
  for (const p of s.pairs) for (const t of p.tensors) (bySuffix[t.suffix] ??= []).push(t.cosine);
  return {
    labels: s.pairs.map((p) => `${p.a}–${p.b}`),
    blockCosine: s.pairs.map((p) => p.blockCosine),
    meanCosine: s.pairs.map((p) => p.meanCosine),
    bySuffix,
  };
}
