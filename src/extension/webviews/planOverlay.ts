// What the open plan does to each base block, for drawing over the importance charts: deleted,
// the updated final block, trainable, and how many new blocks go right after it. Pure.
import type { Layout } from '../../core';
import type { OverlayBlock, PlanOverlay } from '../../protocol/webviewMessages';

export function planOverlay(layout: Layout, opts: { planFile: string | null; expand: string; init: 'copy' | 'average' }): PlanOverlay {
  const L = layout.baseLayers;
  const blocks: OverlayBlock[] = Array.from({ length: L }, (_, base) => ({ base, status: 'kept', trainable: false, newAfter: 0 }));
  for (const d of layout.deleted) if (d < L) blocks[d]!.status = 'deleted';
  let lastBase = -1;
  for (const b of layout.blocks) {
    if (b.role === 'kept') {
      lastBase = b.sources[0]!.layer;
      blocks[lastBase]!.trainable = b.trainable;
    } else if (b.role === 'final') {
      // The final block replaces the base block its `1` segment covers.
      lastBase = layout.final?.original ?? lastBase + 1;
      const o = blocks[lastBase];
      if (o) {
        o.status = 'final';
        o.trainable = b.trainable;
      }
    } else if (lastBase >= 0) {
      blocks[lastBase]!.newAfter++;
    }
  }
  return { planFile: opts.planFile, expand: opts.expand, baseLayers: L, resultLayers: layout.numLayers, init: opts.init, blocks };
}
