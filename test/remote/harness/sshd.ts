// A throwaway OpenSSH server on a loopback port, run unprivileged-style from a temp directory with
// its own host key, the test user's key, and a client config + known_hosts for the tests' ssh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { descendants, freePort, killOnExit, killQuietly, portOpen, waitFor } from './processes';

export const SSHD = '/usr/sbin/sshd';

/** In CI a missing tool fails the suite; elsewhere the suite is skipped with this message. */
export function missingTools(tools: string[]): string | null {
  const missing = tools.filter((t) => !existsSync(t));
  if (missing.length === 0) return null;
  const msg = `missing ${missing.join(', ')} (run scripts/setup.sh)`;
  if (process.env.CI === 'true') throw new Error(msg);
  return msg;
}

export class TestSshd {
  private child: ChildProcess | null = null;
  readonly clientConfig: string;
  readonly knownHosts: string;
  readonly controlDir: string;
  hostPublicKey = '';
  private readonly unregister: () => void;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.clientConfig = join(dir, 'ssh_config');
    this.knownHosts = join(dir, 'known_hosts');
    this.controlDir = join(dir, 'cm');
    this.unregister = killOnExit(() => (this.child?.pid ? [this.child.pid, ...descendants(this.child.pid)] : []), [dir]);
  }

  /** `env` is set in every session (sshd SetEnv), e.g. SLURM_CONF for the Slurm clients. */
  static async start(env: Record<string, string> = {}): Promise<TestSshd> {
    const dir = mkdtempSync('/tmp/slr-');
    const sshd = new TestSshd(dir, await freePort());
    try {
      await sshd.init(env);
    } catch (e) {
      await sshd.stop();
      throw e;
    }
    return sshd;
  }

  private async init(env: Record<string, string>): Promise<void> {
    const d = this.dir;
    mkdirSync(this.controlDir, { mode: 0o700 });
    mkdirSync(join(d, 'home'));
    keygen(join(d, 'host'));
    keygen(join(d, 'user'));
    writeFileSync(join(d, 'authorized_keys'), readFileSync(join(d, 'user.pub')));
    this.hostPublicKey = readFileSync(join(d, 'host.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(join(d, 'sshd_config'), [
      `Port ${this.port}`, 'ListenAddress 127.0.0.1', `HostKey ${d}/host`, `PidFile ${d}/sshd.pid`,
      `AuthorizedKeysFile ${d}/authorized_keys`, 'UsePAM no', 'StrictModes no', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'MaxStartups 100:30:200',
      'LogLevel ERROR', 'ClientAliveInterval 0',
      // A home of its own: the machine's shell rc files (e.g. a pyenv rehash that takes a lock, which
      // a killed session can leave behind) must not run in, or be disturbed by, the tests' sessions.
      // sshd honours only the first SetEnv line, so every variable goes on one.
      `SetEnv ${Object.entries({ HOME: `${d}/home`, ...env }).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      '',
    ].join('\n'));
    writeFileSync(this.knownHosts, '');
    this.trustPort(this.port);
    writeFileSync(this.clientConfig, '');
    this.addAlias('slayer-test', this.port);
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    await this.launch();
  }

  /** known_hosts entry for the server's key on a port (the proxy has its own port). */
  trustPort(port: number): void {
    appendFileSync(this.knownHosts, `[127.0.0.1]:${port} ${this.hostPublicKey}\n`);
  }

  /** A Host block in the client config; `knownHosts` overrides the file (for the unknown-key test). */
  addAlias(alias: string, port: number, knownHosts = this.knownHosts): void {
    appendFileSync(this.clientConfig, [
      `Host ${alias}`, '  HostName 127.0.0.1', `  Port ${port}`, `  User ${userInfo().username}`,
      `  IdentityFile ${this.dir}/user`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${knownHosts}`,
      '  GlobalKnownHostsFile /dev/null', '  LogLevel ERROR', '',
    ].join('\n'));
  }

  private async launch(): Promise<void> {
    const child = spawn(SSHD, ['-f', join(this.dir, 'sshd_config'), '-D', '-e'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let err = '';
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    this.child = child;
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`sshd exited: ${err}`);
      return portOpen(this.port);
    }, 10_000, 'sshd to listen');
  }

  /** Kills sshd and every connection it serves (as a crash or a reboot of sshd would). */
  kill(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    const kids = descendants(pid);
    killQuietly(pid);
    for (const k of kids) killQuietly(k);
    this.child = null;
  }

  async restart(): Promise<void> {
    this.kill();
    await waitFor(async () => !(await portOpen(this.port)), 5000, 'sshd to stop');
    await this.launch();
  }

  async stop(): Promise<void> {
    // Close any control masters the tests left, then the server and its temp dir.
    spawnSync('ssh', ['-F', this.clientConfig, '-o', `ControlPath=${this.controlDir}/%C`, '-O', 'exit', 'slayer-test'], { stdio: 'ignore', timeout: 5000 });
    for (const pid of sshProcessesUsing(this.controlDir)) killQuietly(pid);
    this.kill();
    this.unregister();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** ssh control masters started against this harness (their cmdline holds the control dir). */
function sshProcessesUsing(controlDir: string): number[] {
  const r = spawnSync('sh', ['-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo " @${p#/proc/}"; done'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(controlDir) && /^ssh /.test(l)).map((l) => Number(l.split('@').pop()));
}
