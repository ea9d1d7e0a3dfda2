// code-server as the test editor: a throwaway profile (user data, extensions, config) with the
// packaged .vsix installed through code-server's own CLI, a server on a free loopback port, and a
// clean stop of its whole process group (extension hosts included).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { alive, descendants, killOnExit, killQuietly, waitFor } from '../../remote/harness/processes';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CODE_SERVER_BIN = join(ROOT, '.tools', 'code-server', 'node_modules', '.bin', 'code-server');
export const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Settings every test profile starts with: no start page, no trust prompt, no network chatter. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'telemetry.telemetryLevel': 'off',
  'remote.autoForwardPorts': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'update.mode': 'none',
};

/** Runs the idempotent install script (a stamp check once installed); throws when it fails. */
export function ensureCodeServer(): void {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(CODE_SERVER_BIN)) throw new Error(`scripts/install-code-server.sh failed (exit ${r.status ?? r.signal})`);
}

export interface EditorProfile {
  /** Everything of this profile lives here; removed by dispose(). Short, under /tmp: code-server puts sockets in it. */
  readonly dir: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly configFile: string;
  readonly workspace: string;
  dispose(): void;
}

/**
 * A fresh profile: User settings (quiet defaults + `settings(dir)`), a config file with `auth: none`,
 * an empty extensions dir, and a copy of `workspaceFixture` as the folder to open.
 */
export function makeProfile(settings: (dir: string) => Record<string, unknown>, workspaceFixture: string): EditorProfile {
  const dir = mkdtempSync('/tmp/slv-');
  const userDataDir = join(dir, 'u');
  const extensionsDir = join(dir, 'e');
  const workspace = join(dir, 'ws');
  for (const d of [join(userDataDir, 'User'), join(userDataDir, 'Machine'), extensionsDir]) mkdirSync(d, { recursive: true });
  const all = JSON.stringify({ ...QUIET_SETTINGS, ...settings(dir) }, null, 2);
  writeFileSync(join(userDataDir, 'User', 'settings.json'), all);
  // A remote window (code-server's) reads machine-scoped settings (slayer.hosts) from here.
  writeFileSync(join(userDataDir, 'Machine', 'settings.json'), all);
  const configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, 'auth: none\n');
  cpSync(workspaceFixture, workspace, { recursive: true });
  return { dir, userDataDir, extensionsDir, configFile, workspace, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Installs a .vsix into the profile with `code-server --install-extension`; returns the unpacked folder. */
export function installVsix(profile: EditorProfile, vsix: string): string {
  const r = spawnSync(CODE_SERVER_BIN, [
    '--config', profile.configFile, '--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir,
    '--install-extension', vsix,
  ], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`code-server --install-extension failed (${r.status}): ${r.stdout}${r.stderr}`);
  const dirs = readdirSync(profile.extensionsDir).filter((d) => d.startsWith('slayer-studio.slayer-studio-'));
  if (dirs.length !== 1) throw new Error(`expected one installed slayer-studio folder, found ${dirs.join(', ') || 'none'}`);
  return join(profile.extensionsDir, dirs[0]!);
}

export interface CodeServer {
  readonly port: number;
  /** host:port, also the remote authority of the workbench's vscode-remote:// URIs. */
  readonly authority: string;
  /** The workbench URL opening `folder`, with optional extension-development payload entries. */
  workbenchUrl(folder: string, payload?: [string, string][]): string;
  /** A vscode-remote:// URI for a path on the server. */
  remoteUri(path: string): string;
  log(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(profile: EditorProfile, env: Record<string, string> = {}): Promise<CodeServer> {
  const child: ChildProcess = spawn(CODE_SERVER_BIN, [
    '--config', profile.configFile, '--auth', 'none', '--bind-addr', '127.0.0.1:0',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, profile.workspace,
  ], {
    detached: true, // its own process group: stop() ends the extension hosts with it
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EXTENSIONS_GALLERY: '{}', ...env },
  });
  const pid = child.pid!;
  const unregister = killOnExit(() => [pid, ...descendants(pid)]);
  let log = '';
  const port = await new Promise<number>((res, rej) => {
    // A bound, not a speed target: on a loaded shared CI core code-server can take well over 30 s.
    const timer = setTimeout(() => rej(new Error(`code-server did not start listening in 120 s:\n${log}`)), 120_000);
    const onData = (d: Buffer) => {
      log += d.toString();
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`code-server exited (${code}) before listening:\n${log}`));
    });
  });
  const authority = `127.0.0.1:${port}`;
  const remoteUri = (path: string) => `vscode-remote://${authority}${path}`;
  return {
    port,
    authority,
    remoteUri,
    workbenchUrl: (folder, payload) => {
      const q = new URLSearchParams({ folder: remoteUri(folder) });
      if (payload) q.set('payload', JSON.stringify(payload.map(([k, v]) => [k, v])));
      return `http://${authority}/?${q.toString()}`;
    },
    log: () => log,
    stop: async () => {
      const group = [pid, ...descendants(pid)];
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await waitFor(() => group.every((p) => !alive(p)), 5000, 'code-server to exit').catch(() => {
        for (const p of group) killQuietly(p);
      });
      unregister();
    },
  };
}
