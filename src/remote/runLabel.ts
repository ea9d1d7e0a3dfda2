// The label a run carries in the Runs view, the status bar and `slayer runs`: short enough to read
// at a glance, specific enough to tell runs of different plans apart.
import { basename } from 'node:path';
import type { LayerMap } from '../protocol/layerMap';

/** A model reference as a user would name it: a catalogue id as is, a directory by its last part. */
export function shortModelName(model: string): string {
  const remote = /^([A-Za-z0-9._-]+):(\/.*|~.*)$/.exec(model);
  if (remote) return `${remote[1]}:${basename(remote[2]!.replace(/\/+$/, '')) || remote[2]}`;
  if (model.startsWith('/') || model.startsWith('~') || model.startsWith('.')) return basename(model.replace(/\/+$/, '')) || model;
  return model;
}

/** `plan.slayer · model (expansion)`, or without the plan file for a LayerMap run on its own. */
export function runLabel(layerMap: LayerMap, planFile: string | null = layerMap.plan.file): string {
  const what = `${shortModelName(layerMap.plan.model)} ${layerMap.plan.expand}`;
  return planFile ? `${basename(planFile)} · ${what}` : what;
}
