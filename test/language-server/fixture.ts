// A temporary home (~/.ssh/config with Include and wildcard hosts) and workspace (plans that use
// datasets, a local checkpoint directory with config.json) for the language-server tests.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { shapeToHfConfig, lookupCatalogue } from '../../src/core';
import { ROOT } from './lspClient';

export const PAPER_PLAN = `# SLayer-8B
model   meta-llama/Llama-2-7b-hf
expand  (2+1)x8 | 13 | 1◇
train   new, final, head

stage cpt
  data     proof-pile-2: 5, the-stack-dedup/python: 2
  tokens   30B
  lr       2e-4 cosine warmup 2%
  batch    1024 x 4096
  epochs   2

run on a100-box gpus 8
`;

export interface Fixture {
  home: string;
  workspace: string;
  uri(name: string): string;
  cleanup(): void;
}

export function buildOnce(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed: ${r.stderr}`);
}

/** config.json of a small Llama-family checkpoint (SmolLM2-135M's shape, `layers` blocks). */
export function smolConfig(layers: number): string {
  const shape = lookupCatalogue('HuggingFaceTB/SmolLM2-135M')!.shape;
  return JSON.stringify({ ...shapeToHfConfig({ ...shape, numLayers: layers }) }, null, 2);
}

export function makeFixture(): Fixture {
  const base = mkdtempSync(join(tmpdir(), 'slayer-ls-'));
  const home = join(base, 'home');
  const workspace = join(base, 'ws');
  mkdirSync(join(home, '.ssh', 'config.d'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'config'), [
    'Host gpu-box a100-box',
    '  HostName 10.0.0.5',
    'Host *.internal !bastion',
    '  User me',
    'Include config.d/*.conf',
    'Host   = login-node',
  ].join('\n'));
  writeFileSync(join(home, '.ssh', 'config.d', 'cluster.conf'), 'Host cluster-a cluster-?\n  ProxyJump login-node\n');
  mkdirSync(join(workspace, 'plans'), { recursive: true });
  writeFileSync(join(workspace, 'plans', 'other.slayer'), 'model meta-llama/Llama-2-7b-hf\nexpand (4+1)x8\n\nstage sft\n  data my-instructions: 2, openhermes\n');
  mkdirSync(join(workspace, 'ckpt'), { recursive: true });
  writeFileSync(join(workspace, 'ckpt', 'config.json'), smolConfig(30));
  mkdirSync(join(workspace, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(workspace, 'models', 'tiny', 'config.json'), smolConfig(8));
  return {
    home,
    workspace,
    uri: (name) => pathToFileURL(join(workspace, name)).href,
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}
