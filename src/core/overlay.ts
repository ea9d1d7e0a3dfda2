// What a plan does to each base block: deleted, the updated final block, trainable, and how many new
// blocks go right after it. The core owns it (type and rule); the host sends it to the importance
// and layer-map views and `slayer report` draws it, so no view derives it again. Pure; works from
// the core's layout or from a compiled LayerMap.
import type { LayerMap } from '../protocol/layerMap';
import type { Layout } from './layout';

/** One base block as the open plan treats it, as drawn over the importance charts and on the layer map. */
export interface OverlayBlock {
  /** 0-based base block. */
  base: number;
  status: 'kept' | 'deleted' | 'final';
  trainable: boolean;
  /** New blocks the plan inserts right after this base block. */
  newAfter: number;
}

export interface PlanOverlay {
  planFile: string | null;
  /** Canonical expansion notation of the plan. */
  expand: string;
  baseLayers: number;
  resultLayers: number;
  init: 'copy' | 'average';
  blocks: OverlayBlock[];
}

/** The part of a stack both a Layout and a LayerMap describe. */
interface Stack {
  baseLayers: number;
  numLayers: number;
  deleted: readonly number[];
  blocks: readonly { role: 'kept' | 'new' | 'final'; sources: readonly { layer: number }[]; trainable: boolean }[];
  /** The base block the updated final block replaces, when known. */
  finalOriginal: number | null;
}

function overlayOf(stack: Stack, opts: { planFile: string | null; expand: string; init: 'copy' | 'average' }): PlanOverlay {
  const L = stack.baseLayers;
  const blocks: OverlayBlock[] = Array.from({ length: L }, (_, base) => ({ base, status: 'kept', trainable: false, newAfter: 0 }));
  for (const d of stack.deleted) if (d < L) blocks[d]!.status = 'deleted';
  let lastBase = -1;
  for (const b of stack.blocks) {
    if (b.role === 'kept') {
      lastBase = b.sources[0]!.layer;
      blocks[lastBase]!.trainable = b.trainable;
    } else if (b.role === 'final') {
      // The final block replaces the base block its `1` segment covers.
      lastBase = stack.finalOriginal ?? lastBase + 1;
      const o = blocks[lastBase];
      if (o) {
        o.status = 'final';
        o.trainable = b.trainable;
      }
    } else if (lastBase >= 0) {
      blocks[lastBase]!.newAfter++;
    }
  }
  return { planFile: opts.planFile, expand: opts.expand, baseLayers: L, resultLayers: stack.numLayers, init: opts.init, blocks };
}

export function planOverlay(layout: Layout, opts: { planFile: string | null; expand: string; init: 'copy' | 'average' }): PlanOverlay {
  return overlayOf({ ...layout, finalOriginal: layout.final?.original ?? null }, opts);
}

/** The same overlay from a compiled plan (a run's layermap.json). */
export function layerMapOverlay(map: LayerMap): PlanOverlay {
  const deleted = new Set(map.deleted);
  const final = map.blocks.find((b) => b.role === 'final');
  const finalOriginal = final?.sources.find((s) => !deleted.has(s.layer))?.layer ?? null;
  const init = map.blocks.some((b) => b.init === 'average') ? 'average' : 'copy';
  return overlayOf({ baseLayers: map.base.numLayers, numLayers: map.result.numLayers, deleted: map.deleted, blocks: map.blocks, finalOriginal }, { planFile: map.plan.file, expand: map.plan.expand, init });
}
