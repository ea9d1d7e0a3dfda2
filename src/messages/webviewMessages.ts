// Extension ⇄ webview messages: every message both ways is typed here once. What arrives from a
// view is untrusted (a webview runs web content) and goes through validateViewMessage before the
// host acts on it. Documented in docs/webviews.md.
import type { EvalEvent, ImportanceFile } from '../protocol/runnerEvents';
import type { LayerMap } from '../protocol/layerMap';
import type { PlanOverlay } from '../core/overlay';
import type { SuggestionPreview } from '../core/suggest';

export type { SuggestionPreview } from '../core/suggest';
import type { MetricColumns } from '../shared/series';

export const WEBVIEW_PROTOCOL_VERSION = 1 as const;

export type ViewKind = 'importance' | 'layerMap' | 'curves' | 'evaluation';
export const VIEW_KINDS: readonly ViewKind[] = ['importance', 'layerMap', 'curves', 'evaluation'];

/** VS Code view types (also the `onWebviewPanel:` activation events in package.json). */
export const VIEW_TYPES: Readonly<Record<ViewKind, string>> = {
  importance: 'slayer.importance',
  layerMap: 'slayer.layerMap',
  curves: 'slayer.trainingCurves',
  evaluation: 'slayer.evaluation',
};

// ---------------------------------------------------------------------------------------------
// Payloads

export interface RunSummary {
  id: string;
  /** How the run is shown: its name and start time (`demo-3 · 14:03`). */
  label: string;
  host: string;
  state: string;
  /** The run's own short name (`demo-3`, or what the user renamed it to). */
  name?: string;
  /** The run's colour (`#1f77b4`), the same in the Runs view, legends and its channel. */
  color?: string;
  /** Start (or creation) time, ms since the epoch. */
  startedAt?: number;
  /** The plan's run description (`demo.slayer · tiny-llama (2+1)x2 | 2 | 1◇`). */
  detail?: string;
}

/**
 * Weight-space cosine similarity of adjacent blocks, read from the plan's local checkpoint (no GPU):
 * entry i compares blocks i and i + 1. Shown when nothing is measured yet, and next to a measurement.
 */
export interface WeightSimilarity {
  /** The checkpoint directory it was computed from. */
  source: string;
  /** Cosine of the two blocks as whole flattened vectors; null where undefined (zero or non-finite). */
  blockCosine: (number | null)[];
  /** Mean of the per-matrix cosines. */
  meanCosine: (number | null)[];
}


// ---------------------------------------------------------------------------------------------
// Host → view

export type HostMessage =
  /** `focus`: a run the user asked to see (e.g. from the Runs view); the view adds it to its selection. */
  | { type: 'runs'; runs: RunSummary[]; focus: string | null }
  /** `reset`: replace what the view holds for this run and stage (first load, re-selection). */
  | { type: 'metrics'; runId: string; stage: string; reset: boolean; points: MetricColumns }
  | {
      type: 'importance';
      importance: ImportanceFile | null;
      /** Where the measurement came from (file path or run id), for the caption. */
      source: string | null;
      overlay: PlanOverlay | null;
      /** Why something is missing (no plan open, plan does not compile, depth mismatch). */
      notes: string[];
      /** Computed on request (`computeSimilarity`); null until then. */
      similarity: WeightSimilarity | null;
      /**
       * The measurement was made on the plan's model (same model identity and depth, or a run of
       * this plan); only then is the plan drawn over it. False when either is missing.
       */
      measuredOnPlanModel: boolean;
      /** The measurement is a file the user picked (the view offers to clear the choice). */
      picked: boolean;
      /** The plan names a local checkpoint with weights, so weight similarity can be computed. */
      canComputeSimilarity: boolean;
    }
  /** Importance: a suggested expansion to preview (null: none, or it was applied or discarded). */
  | { type: 'suggestion'; preview: SuggestionPreview | null }
  /** `overlay`: what the map does to each base block, computed by the core (the view only draws it). */
  | { type: 'layerMap'; layerMap: LayerMap | null; overlay: PlanOverlay | null; planFile: string | null; problems: string[]; stale: boolean }
  /** Evaluation: every run with eval scores; `focus` = the runs to compare (from the Runs view). */
  | { type: 'evaluation'; runs: EvaluatedRun[]; focus: string[] }
  | { type: 'notice'; level: 'info' | 'error'; message: string };

export interface EvaluatedRun {
  id: string;
  label: string;
  scores: EvalEvent[];
}

// ---------------------------------------------------------------------------------------------
// View → host

export type ExportMessage =
  | { type: 'export'; format: 'csv'; fileName: string; content: string }
  | { type: 'export'; format: 'md'; fileName: string; content: string }
  | { type: 'export'; format: 'png'; fileName: string; dataUrl: string };

export type ViewMessage =
  | { type: 'ready'; view: ViewKind; protocol: typeof WEBVIEW_PROTOCOL_VERSION }
  /** Curves: the runs the view wants metrics for (the host answers with reset batches, then appends). */
  | { type: 'selectRuns'; runIds: string[] }
  /** Importance: add one new block between base blocks `afterBlock` and `afterBlock + 1`. */
  | { type: 'addBlock'; afterBlock: number }
  | { type: 'startRun' }
  | { type: 'openImportanceFile' }
  /** Importance: forget the picked importance.json and go back to the newest run's measurement. */
  | { type: 'clearImportanceFile' }
  /** Importance: compute the weight-space similarity of the plan's local checkpoint. */
  | { type: 'computeSimilarity' }
  /** Importance: run SLayer: Suggest Expansion… (the view's toolbar). */
  | { type: 'suggestExpansion' }
  /** Importance: write the previewed suggestion into the plan, or drop it. */
  | { type: 'applySuggestion' }
  | { type: 'discardSuggestion' }
  | ExportMessage;

export class ViewMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ViewMessageError';
  }
}

/** Largest export a view may hand over (a CSV of a million points is ~80 MB; PNGs are small). */
export const MAX_EXPORT_CHARS = 256 * 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}$/;
const PNG_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/]+=*$/;
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type Rec = Record<string, unknown>;

function need(ok: boolean, what: string): void {
  if (!ok) throw new ViewMessageError(what);
}

/** Checks a message that came from a webview; returns it typed or throws ViewMessageError. */
export function validateViewMessage(value: unknown): ViewMessage {
  need(typeof value === 'object' && value !== null && !Array.isArray(value), 'message is not an object');
  const m = value as Rec;
  switch (m.type) {
    case 'ready':
      need((VIEW_KINDS as readonly unknown[]).includes(m.view), 'ready: unknown view');
      need(m.protocol === WEBVIEW_PROTOCOL_VERSION, `ready: protocol ${String(m.protocol)} (host speaks ${WEBVIEW_PROTOCOL_VERSION})`);
      return { type: 'ready', view: m.view as ViewKind, protocol: WEBVIEW_PROTOCOL_VERSION };
    case 'selectRuns':
      need(Array.isArray(m.runIds) && m.runIds.length <= 64, 'selectRuns: runIds must be a list of at most 64 ids');
      need((m.runIds as unknown[]).every((id) => typeof id === 'string' && RUN_ID.test(id)), 'selectRuns: bad run id');
      return { type: 'selectRuns', runIds: [...new Set(m.runIds as string[])] };
    case 'addBlock':
      need(Number.isInteger(m.afterBlock) && (m.afterBlock as number) >= 0 && (m.afterBlock as number) < 100000, 'addBlock: afterBlock must be a block index');
      return { type: 'addBlock', afterBlock: m.afterBlock as number };
    case 'startRun':
      return { type: 'startRun' };
    case 'openImportanceFile':
      return { type: 'openImportanceFile' };
    case 'clearImportanceFile':
      return { type: 'clearImportanceFile' };
    case 'computeSimilarity':
      return { type: 'computeSimilarity' };
    case 'suggestExpansion':
    case 'applySuggestion':
    case 'discardSuggestion':
      return { type: m.type };
    case 'export': {
      need(typeof m.fileName === 'string' && FILE_NAME.test(m.fileName) && !(m.fileName as string).includes('..'), 'export: bad file name');
      const fileName = m.fileName as string;
      if (m.format === 'csv' || m.format === 'md') {
        need(typeof m.content === 'string' && (m.content as string).length <= MAX_EXPORT_CHARS, 'export: text content must be a string within the size limit');
        need(fileName.endsWith(`.${m.format}`), `export: a ${m.format === 'csv' ? 'CSV' : 'Markdown'} file name ends in .${m.format}`);
        return m.format === 'csv' ? { type: 'export', format: 'csv', fileName, content: m.content as string } : { type: 'export', format: 'md', fileName, content: m.content as string };
      }
      if (m.format === 'png') {
        need(typeof m.dataUrl === 'string' && (m.dataUrl as string).length <= MAX_EXPORT_CHARS && PNG_DATA_URL.test(m.dataUrl as string), 'export: dataUrl must be a base64 PNG data URL');
        need(fileName.endsWith('.png'), 'export: a PNG file name ends in .png');
        return { type: 'export', format: 'png', fileName, dataUrl: m.dataUrl as string };
      }
      throw new ViewMessageError('export: format must be csv, md or png');
    }
    default:
      throw new ViewMessageError(`unknown message type ${JSON.stringify(String(m.type)).slice(0, 40)}`);
  }
}

/** Decodes a PNG data URL that passed validation; checks the PNG signature. */
export function pngBytes(dataUrl: string): Uint8Array {
  const b64 = dataUrl.slice(dataUrl.indexOf(',') + 1);
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || sig.some((b, i) => bytes[i] !== b)) throw new ViewMessageError('export: not a PNG image');
  return bytes;
}

/** A light check of what the view receives (the host is trusted; this catches version skew). */
export function isHostMessage(value: unknown): value is HostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as Rec).type;
  return t === 'runs' || t === 'metrics' || t === 'importance' || t === 'suggestion' || t === 'layerMap' || t === 'evaluation' || t === 'notice';
}
