// Plan core speed: parse + check + compile of the paper's plan and of a 500-line plan, median per
// run, against a baseline measured in the same run (JSON.parse of a document of the same size).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzePlan } from '../src/core';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, runs: number): number {
  for (let i = 0; i < 20; i++) fn(); // warm up the JIT
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  return median(t);
}

const paper = readFileSync(join(__dirname, '..', 'examples', 'slayer-8b.slayer'), 'utf8');
// 500 lines: the paper's header, then many stages of realistic settings.
const lines = ['model meta-llama/Llama-2-7b-hf', 'expand (2+1)x8 | 13 | 1◇', 'train new, final, head'];
for (let i = 0; lines.length < 500; i++) {
  lines.push('', `stage ${i === 0 ? 'cpt' : `sft${i}`}${i === 0 ? '' : ' sft'}`, `  data corpus-${i}: 5, code-${i}/python: 2`, '  tokens 30B', '  lr 2e-4 cosine warmup 2%', '  batch 1024 x 4096', '  precision bf16  weight-decay 0.1  clip 1.0  # comment');
}
const big = lines.slice(0, 500).join('\n');
const json = JSON.stringify({ lines: big.split('\n') });

const tPaper = time(() => analyzePlan(paper), 2000);
const tBig = time(() => analyzePlan(big), 300);
const tJson = time(() => JSON.parse(json), 300);
console.log(`paper plan (${paper.split('\n').length} lines):  median ${tPaper.toFixed(3)} ms per parse+check+compile`);
console.log(`500-line plan (${big.length} chars):  median ${tBig.toFixed(3)} ms  (goal well under 5 ms)`);
console.log(`baseline JSON.parse of the same text as JSON (${json.length} chars): median ${tJson.toFixed(3)} ms`);
console.log(`ratio 500-line analyze / JSON.parse: ${(tBig / tJson).toFixed(1)}x`);
