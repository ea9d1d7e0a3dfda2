// Reads per-host settings (`slayer.hosts`) and the run defaults from the VS Code configuration,
// and writes a host entry (Add Host…, Choose Python Interpreter…).
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostSettingsFrom, LOCALHOST, type HostSettings } from '../../remote/hostSettings';
import { sshConfigHosts } from '../../remote/sshConfigHosts';
import { globalSetting, setting, updateGlobalSetting } from '../settings';

function hostsSetting(): Record<string, unknown> {
  return setting('hosts');
}

export function configuredHosts(): string[] {
  return [...new Set([LOCALHOST, ...Object.keys(hostsSetting())])];
}

/** Host aliases of the user's ssh config (or slayer.sshConfigFile). */
export function sshAliases(): string[] {
  return sshConfigHosts(sshConfigFile());
}

/** A host a run can go to: localhost, a `slayer.hosts` entry, or a Host of the ssh config. */
export function isKnownHost(host: string): boolean {
  return configuredHosts().includes(host) || sshAliases().includes(host);
}

/**
 * Interpreters on this machine that a project would mean, best first: the workspace's own venv
 * (`.venv`, `venv`), the Python extension's configured interpreter, then `python3` on PATH.
 */
export function localPythonCandidates(): { path: string; why: string }[] {
  const out: { path: string; why: string }[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    // The folder itself, then up to two parents: examples/ opened from a clone finds the clone's venv.
    for (let dir = folder.uri.fsPath, up = 0; up <= 2; dir = dirname(dir), up++) {
      for (const venv of ['.venv', 'venv']) {
        const py = join(dir, venv, 'bin', 'python');
        if (existsSync(py)) out.push({ path: py, why: up === 0 ? `the workspace's ${venv}` : `${venv} in ${dir}` });
      }
    }
  }
  const configured = vscode.workspace.getConfiguration('python').get<string>('defaultInterpreterPath');
  if (configured && configured !== 'python' && configured !== 'python3') out.push({ path: configured, why: 'python.defaultInterpreterPath' });
  out.push({ path: 'python3', why: 'python3 on PATH' });
  return out.filter((c, i) => out.findIndex((o) => o.path === c.path) === i);
}

export function settingsFor(host: string): HostSettings {
  const raw = hostsSetting()[host];
  const settings = hostSettingsFrom(host, raw);
  // localhost without a chosen interpreter: the project's venv beats whatever python3 is on PATH.
  const chosen = typeof raw === 'object' && raw !== null && 'python' in raw;
  if (host === LOCALHOST && !chosen) settings.python = localPythonCandidates()[0]!.path;
  return settings;
}

/** Sets keys of one host's entry in `slayer.hosts` (machine scope: user settings), creating it. */
export async function updateHostSettings(host: string, patch: Record<string, unknown>): Promise<void> {
  const all = { ...(globalSetting('hosts') ?? {}) };
  const entry = all[host];
  all[host] = { ...(typeof entry === 'object' && entry !== null ? entry : {}), ...patch };
  await updateGlobalSetting('hosts', all);
}

export function sshConfigFile(): string | undefined {
  return setting('sshConfigFile') || undefined;
}

export function defaultHost(): string {
  return setting('defaultHost') || LOCALHOST;
}

export function runChoices(): { tinyModel: boolean; maxSteps: number | null } {
  const maxSteps = setting('runs.maxSteps');
  return { tinyModel: setting('runs.tinyModel'), maxSteps: maxSteps && maxSteps > 0 ? maxSteps : null };
}
