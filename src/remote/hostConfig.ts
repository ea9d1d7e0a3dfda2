// Host resolution exactly as OpenSSH does it: `ssh -G HOST` prints the effective client config
// after aliases, Match, Include and ProxyJump are applied, so we never parse ~/.ssh/config ourselves.
import { execFile } from 'node:child_process';

export interface ResolvedHost {
  /** The name the user wrote (alias); what we pass back to ssh. */
  alias: string;
  hostname: string;
  user: string;
  port: number;
  identityFiles: string[];
  proxyJump: string | null;
  strictHostKeyChecking: string;
  userKnownHostsFiles: string[];
  /** Every key ssh -G printed (lower-case), first value per key. */
  options: Map<string, string>;
}

export class HostResolveError extends Error {
  constructor(alias: string, detail: string) {
    super(`cannot resolve SSH host "${alias}": ${detail}`);
    this.name = 'HostResolveError';
  }
}

export interface SshClientOptions {
  /** `-F` config file; undefined = the user's ~/.ssh/config. */
  configFile?: string;
  /** The ssh binary (tests may point at another build). */
  sshBinary?: string;
}

export function parseSshG(alias: string, text: string): ResolvedHost {
  const options = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (!options.has(key)) options.set(key, value);
    multi.set(key, [...(multi.get(key) ?? []), value]);
  }
  const hostname = options.get('hostname');
  if (!hostname) throw new HostResolveError(alias, 'ssh -G printed no hostname');
  const proxy = options.get('proxyjump');
  return {
    alias,
    hostname,
    user: options.get('user') ?? '',
    port: Number(options.get('port') ?? 22),
    identityFiles: multi.get('identityfile') ?? [],
    proxyJump: proxy && proxy !== 'none' ? proxy : null,
    strictHostKeyChecking: options.get('stricthostkeychecking') ?? 'ask',
    userKnownHostsFiles: (options.get('userknownhostsfile') ?? '').split(/\s+/).filter(Boolean),
    options,
  };
}

/** Runs `ssh -G alias` (no network) and parses the effective configuration. */
export function resolveHost(alias: string, client: SshClientOptions = {}): Promise<ResolvedHost> {
  if (alias === '' || alias.startsWith('-') || /[\s\0]/.test(alias)) {
    return Promise.reject(new HostResolveError(alias, 'not a valid host name'));
  }
  const args = [...(client.configFile ? ['-F', client.configFile] : []), '-G', '--', alias];
  return new Promise((resolve, reject) => {
    execFile(client.sshBinary ?? 'ssh', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new HostResolveError(alias, String(stderr).trim() || err.message));
      else {
        try {
          resolve(parseSshG(alias, stdout));
        } catch (e) {
          reject(e as Error);
        }
      }
    });
  });
}
