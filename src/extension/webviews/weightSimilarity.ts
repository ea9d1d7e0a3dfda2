// Weight-space similarity for the importance view: which local checkpoint a plan names, and the
// adjacent-block cosines computed from it by the model-files room (streamed, bounded memory, no
// GPU). No `vscode` import, so it is tested under node; the panel adds progress and cancellation.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanAnalysis } from '../../core';
import { blockSimilarity, readCheckpoint, similaritySeries } from '../../modelfiles';
import type { WeightSimilarity } from '../../messages/webviewMessages';

/** The plan's checkpoint directory, or why similarity cannot be computed from this plan. */
export function localCheckpointOf(a: PlanAnalysis): { dir: string } | { why: string } {
  const m = a.model;
  if (!m) return { why: 'the plan names no model it can resolve' };
  if (m.source !== 'local') {
    return { why: `the plan's model "${m.id}" is ${m.source === 'remote' ? 'on a remote host' : 'a catalogue entry (no weights here)'}; weight similarity needs a local checkpoint directory` };
  }
  if (!existsSync(join(m.id, 'model.safetensors')) && !existsSync(join(m.id, 'model.safetensors.index.json'))) {
    return { why: `${m.id} has a config.json but no safetensors weights` };
  }
  return { dir: m.id };
}

export async function computeWeightSimilarity(
  dir: string,
  options: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<WeightSimilarity> {
  const report = await blockSimilarity(await readCheckpoint(dir), options);
  const s = similaritySeries(report);
  return { source: dir, blockCosine: s.blockCosine, meanCosine: s.meanCosine };
}
