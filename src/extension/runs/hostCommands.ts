// `slayer.addHost` (Add Host…): puts a host into `slayer.hosts`, offering the Host aliases of the
// ssh config; the unknown-host quick fix calls it with the plan's host. `slayer.choosePython`:
// picks the interpreter a host's runs use. Both write user settings, never workspace files.
import * as vscode from 'vscode';
import type { AddHostArgs } from '../../protocol/languageServer';
import { settingId } from '../../protocol/settings';
import { LOCALHOST } from '../../remote/hostSettings';
import type { CommandHandlers } from '../commands';
import { configuredHosts, localPythonCandidates, settingsFor, sshAliases, updateHostSettings } from './hostConfiguration';

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Asks for (or takes) a host alias and adds it to slayer.hosts with default settings. */
export async function addHost(...[host]: AddHostArgs): Promise<string | undefined> {
  let alias = typeof host === 'string' ? host.trim() : undefined;
  const configured = new Set(configuredHosts());
  if (!alias) {
    const OTHER = '$(edit) Enter another host name…';
    const aliases = sshAliases().filter((a) => !configured.has(a));
    const pick = await vscode.window.showQuickPick(
      [...aliases.map((a) => ({ label: a, description: 'Host in your ssh config' })), { label: OTHER, description: '' }],
      { placeHolder: aliases.length ? 'Add which host to slayer.hosts? (Host aliases of your ssh config)' : 'Your ssh config has no Host aliases that are not added yet' });
    if (!pick) return undefined;
    alias = pick.label === OTHER
      ? (await vscode.window.showInputBox({ prompt: 'Host alias (as you would type it after `ssh`)', validateInput: (v) => (HOST_NAME.test(v.trim()) ? null : 'letters, digits, ".", "_" and "-"') }))?.trim()
      : pick.label;
    if (!alias) return undefined;
  }
  if (!HOST_NAME.test(alias)) throw new Error(`"${alias}" is not a host name`);
  if (configured.has(alias) && alias !== LOCALHOST) {
    void vscode.window.showInformationMessage(`SLayer: ${alias} is already in slayer.hosts.`);
    return alias;
  }
  const inSsh = alias === LOCALHOST || sshAliases().includes(alias);
  const d = settingsFor(alias);
  await updateHostSettings(alias, { python: d.python, workDir: d.workDir });
  const EDIT = 'Edit Its Settings';
  void vscode.window.showInformationMessage(
    `SLayer: added ${alias} to slayer.hosts (python ${d.python}, runs in ${d.workDir})${inSsh ? '' : `; it is not a Host in your ssh config, so ssh must resolve "${alias}" itself`}.`, EDIT)
    .then((a) => (a === EDIT ? openHostSettings() : undefined));
  return alias;
}

export async function openHostSettings(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', settingId('hosts'));
}

/** Lets the user pick the Python of `host` (candidates on localhost; a path otherwise). Returns it. */
export async function choosePython(host: string): Promise<string | undefined> {
  const BROWSE = '$(folder-opened) Browse…';
  const TYPE = '$(edit) Enter a path…';
  const current = settingsFor(host).python;
  const candidates = host === LOCALHOST ? localPythonCandidates() : [];
  const pick = await vscode.window.showQuickPick([
    ...candidates.map((c) => ({ label: c.path, description: c.why + (c.path === current ? ' · current' : '') })),
    ...(host === LOCALHOST ? [{ label: BROWSE, description: '' }] : []),
    { label: TYPE, description: host === LOCALHOST ? '' : `a path on ${host}` },
  ], { placeHolder: `Python with torch for runs on ${host} (now: ${current})` });
  if (!pick) return undefined;
  let python: string | undefined = pick.label;
  if (pick.label === BROWSE) python = (await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use This Python' }))?.[0]?.fsPath;
  else if (pick.label === TYPE) python = (await vscode.window.showInputBox({ prompt: `Python interpreter on ${host}`, value: current }))?.trim();
  if (!python) return undefined;
  await updateHostSettings(host, { python });
  return python;
}

export function hostCommands(): Pick<CommandHandlers, 'addHost' | 'choosePython'> {
  const fail = (e: unknown) => void vscode.window.showErrorMessage(`SLayer: ${(e as Error).message}`);
  return {
    addHost: (...args: AddHostArgs) => addHost(...args).catch(fail),
    choosePython: async (host?: string) => {
      const h = host ?? await vscode.window.showQuickPick(configuredHosts(), { placeHolder: 'Choose the Python of which host?' });
      return h ? choosePython(h).catch(fail) : undefined;
    },
  };
}
