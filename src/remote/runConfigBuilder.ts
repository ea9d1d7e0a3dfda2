// Builds run.json for a dispatch from the compiled plan and the host's settings.
import type { LayerMap } from '../protocol/layerMap';
import type { RunConfig } from '../protocol/runConfig';
import type { HostSettings } from './hostSettings';

export interface RunConfigChoices {
  /**
   * Build a random model of the plan's base shape instead of loading a checkpoint (demo, smoke
   * runs). The plan's own `run on HOST weights random` asks for the same.
   */
  tinyModel?: boolean;
  /** Cap optimizer steps per stage. */
  maxSteps?: number | null;
  /** Dataset name → path on the host. */
  datasets?: Record<string, string>;
  device?: RunConfig['device'];
  /** Phases in order (default doctor, surgery, train, and eval when the plan has an eval section). */
  phases?: RunConfig['phases'];
  /** Calibration text or token file on the host for importance; null = the runner's bundled sample. */
  calibration?: string | null;
  seed?: number;
  /** Overrides the host's `backend` setting. */
  backend?: RunConfig['backend'];
  /** Overrides the host's `attnImplementation` setting. */
  attnImplementation?: RunConfig['attn_implementation'];
}

/** Strips a `host:` prefix from a model reference (`gpu1:/models/llama` → `/models/llama`). */
export function modelPathOnHost(model: string): string {
  const m = /^[A-Za-z0-9._-]+:(\/.*)$/.exec(model);
  return m ? m[1]! : model;
}

export function buildRunConfig(layerMap: LayerMap, settings: HostSettings, choices: RunConfigChoices = {}): Omit<RunConfig, 'run_id'> {
  const b = layerMap.base;
  const tiny = (choices.tinyModel ?? false) || layerMap.run?.weights === 'random';
  return {
    v: 1,
    source_model: tiny ? null : modelPathOnHost(layerMap.plan.model),
    tiny_model: tiny
      ? { num_layers: b.numLayers, hidden_size: b.hiddenSize, intermediate_size: b.intermediateSize, num_heads: b.numHeads, num_kv_heads: b.numKvHeads, vocab_size: b.vocabSize, seed: choices.seed ?? 0 }
      : null,
    phases: choices.phases ?? (layerMap.evaluation ? ['doctor', 'surgery', 'train', 'eval'] : ['doctor', 'surgery', 'train']),
    datasets: choices.datasets ?? {},
    calibration: choices.calibration ?? null,
    max_steps: choices.maxSteps ?? null,
    device: choices.device ?? 'auto',
    nproc_per_node: Math.max(1, settings.gpusPerNode),
    nnodes: Math.max(1, layerMap.run?.nodes ?? 1),
    seed: choices.seed ?? 0,
    backend: choices.backend ?? settings.backend,
    attn_implementation: choices.attnImplementation ?? settings.attnImplementation,
    ...(layerMap.evaluation ? { eval: layerMap.evaluation } : {}),
  };
}
