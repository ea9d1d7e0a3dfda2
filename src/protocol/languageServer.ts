// The language server ⇄ client contract beyond standard LSP: initialization options, settings,
// and the custom `slayer/…` methods as typed request/notification types. Documented in
// docs/language-server.md. Imports only the JSON-RPC message types and the command table, so the server
// (language-server/), the VS Code client, the CLI and the tests share one definition: a method's
// name and its params/result types cannot drift apart between the two ends.
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import { COMMANDS } from './commands';
import { LANGUAGE_SERVER_SECTION, settingId, SETTINGS } from './settings';

/** `initializationOptions` of the initialize request. Every field is optional. */
export interface SlayerInitOptions {
  /** The client answers `slayer/remoteModelConfig` (host:/path models are read over SSH). */
  remoteModels?: boolean;
  /** Send `slayer/diagnosticsTiming` after each diagnostics computation (benchmarks). */
  reportTimings?: boolean;
  /** Base URL of docs/plan-language.md for diagnostic links (`#sl021` is appended). */
  docsUrl?: string;
}

/** Settings read with workspace/configuration, section `slayer.languageServer` (LANGUAGE_SERVER_SECTION). */
export interface SlayerServerSettings {
  /** Delay between the last keystroke and the diagnostics of a document, in ms. */
  debounceMs: number;
  /** Show inlay hints (deletions, output ranges, steps per stage). */
  inlayHints: boolean;
}

export const DEFAULT_SERVER_SETTINGS: SlayerServerSettings = {
  debounceMs: SETTINGS['languageServer.debounceMs'].default,
  inlayHints: SETTINGS['languageServer.inlayHints'].default,
};

/** What the server asks with workspace/configuration: its own section, then the two settings it shares with runs. */
export const SERVER_CONFIGURATION_ITEMS = [{ section: LANGUAGE_SERVER_SECTION }, { section: settingId('sshConfigFile') }, { section: settingId('hosts') }];

/** Reads the settings object a client returned, keeping defaults for anything missing or malformed. */
export function readServerSettings(raw: unknown): SlayerServerSettings {
  const out = { ...DEFAULT_SERVER_SETTINGS };
  if (typeof raw !== 'object' || raw === null) return out;
  const r = raw as Record<string, unknown>;
  if (typeof r.debounceMs === 'number' && Number.isFinite(r.debounceMs) && r.debounceMs >= 0) out.debounceMs = Math.min(r.debounceMs, 5000);
  if (typeof r.inlayHints === 'boolean') out.inlayHints = r.inlayHints;
  return out;
}

export interface RemoteModelConfigParams {
  host: string;
  /** Absolute or `~/`-relative directory on the host. */
  path: string;
}

/** What the checkpoint's safetensors headers say against its config.json (warnings and errors). */
export interface CheckpointFinding {
  severity: 'error' | 'warning';
  message: string;
}

/**
 * The findings of an inspected checkpoint (a CheckpointReport of src/modelfiles, typed here by
 * shape so this file imports nothing): its warnings and errors, none for a directory with
 * config.json and no weights (tiny-model runs). Local and remote checkpoints go through this.
 */
export function checkpointFindings(report: { shards: number; diagnostics: readonly { severity: string; code?: string; message: string }[] }): CheckpointFinding[] {
  // No weights read: only why they could not be (a FIFO or a corrupt header as a shard); a
  // directory with config.json alone ('no-checkpoint', tiny-model runs) has no findings.
  const shown = report.shards === 0 ? report.diagnostics.filter((d) => d.code === 'checkpoint') : report.diagnostics;
  return shown
    .filter((d): d is { severity: CheckpointFinding['severity']; message: string } => d.severity === 'error' || d.severity === 'warning')
    .map((d) => ({ severity: d.severity, message: d.message }));
}

export type RemoteModelConfigResult =
  | { status: 'ok'; configJson: string; findings?: CheckpointFinding[] }
  | { status: 'error'; message: string };

const isFinding = (f: unknown): f is CheckpointFinding =>
  typeof f === 'object' && f !== null && ((f as CheckpointFinding).severity === 'error' || (f as CheckpointFinding).severity === 'warning') && typeof (f as CheckpointFinding).message === 'string';

export function isRemoteModelConfigResult(v: unknown): v is RemoteModelConfigResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  if (r.status === 'error') return typeof r.message === 'string';
  return r.status === 'ok' && typeof r.configJson === 'string' && (r.findings === undefined || (Array.isArray(r.findings) && r.findings.every(isFinding)));
}

/**
 * Server → client request: read `config.json` of the checkpoint at host:/path. The client owns the
 * SSH connections (the server never spawns ssh), caches answers and shares requests in flight.
 * The server still checks the answer with isRemoteModelConfigResult: a client is another program.
 */
export const RemoteModelConfigRequest = new RequestType<RemoteModelConfigParams, RemoteModelConfigResult, void>('slayer/remoteModelConfig');

export interface DiagnosticsTimingParams {
  uri: string;
  version: number;
  /** From receiving the change to handing the diagnostics to the transport, debounce excluded. */
  serverMs: number;
  /** The plan core's analyzePlan alone. */
  analyzeMs: number;
}

/** Server → client notification (only with `reportTimings`): time spent producing diagnostics. */
export const DiagnosticsTimingNotification = new NotificationType<DiagnosticsTimingParams>('slayer/diagnosticsTiming');

/** Commands the server's code lenses call (arguments `[documentUri]`); the extension registers them. */
export const LENS_COMMANDS = {
  runExpansion: COMMANDS.runExpansion,
  showImportance: COMMANDS.showImportance,
  showLayerMap: COMMANDS.showLayerMap,
} as const;

/**
 * Commands the server's quick fixes (code actions with a `command`) call; the extension registers
 * them. `addHost`: arguments `[host?: string]` — the alias to add to `slayer.hosts` (without one it
 * offers the Host aliases of the ssh config); resolves to the host added, or undefined if dismissed.
 */
export const FIX_COMMANDS = {
  addHost: COMMANDS.addHost,
} as const;

export type AddHostArgs = [host?: string];
