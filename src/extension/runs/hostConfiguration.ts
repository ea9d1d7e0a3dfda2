// Reads per-host settings (`slayer.hosts`) and the run defaults from the VS Code configuration.
import * as vscode from 'vscode';
import { hostSettingsFrom, LOCALHOST, type HostSettings } from '../../remote/hostSettings';

export function configuredHosts(): string[] {
  const hosts = vscode.workspace.getConfiguration('slayer').get<Record<string, unknown>>('hosts') ?? {};
  return [...new Set([LOCALHOST, ...Object.keys(hosts)])];
}

export function settingsFor(host: string): HostSettings {
  const hosts = vscode.workspace.getConfiguration('slayer').get<Record<string, unknown>>('hosts') ?? {};
  return hostSettingsFrom(host, hosts[host]);
}

export function sshConfigFile(): string | undefined {
  return vscode.workspace.getConfiguration('slayer').get<string>('sshConfigFile') || undefined;
}

export function defaultHost(): string {
  return vscode.workspace.getConfiguration('slayer').get<string>('defaultHost') || LOCALHOST;
}

export function runChoices(): { tinyModel: boolean; maxSteps: number | null } {
  const c = vscode.workspace.getConfiguration('slayer.runs');
  const maxSteps = c.get<number | null>('maxSteps') ?? null;
  return { tinyModel: c.get<boolean>('tinyModel') ?? false, maxSteps: maxSteps && maxSteps > 0 ? maxSteps : null };
}
