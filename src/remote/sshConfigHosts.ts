// The Host aliases an ssh config offers, for pickers ("Add Host…") and the unknown-host check.
// Connecting always goes through `ssh -G` (hostConfig.ts); this only lists names a person wrote:
// `Host` lines, minus patterns (`*`, `?`, `!negated`), following `Include` (relative paths are
// taken from ~/.ssh, globs in the last path part) like OpenSSH does.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';

const MAX_FILES = 64;

/** Host aliases in the order they appear, without duplicates or wildcard patterns. */
export function sshConfigHosts(configFile?: string, home = homedir()): string[] {
  const hosts: string[] = [];
  const seen = new Set<string>();
  const files = new Set<string>();
  const read = (file: string): void => {
    if (files.has(file) || files.size >= MAX_FILES) return;
    files.add(file);
    let text: string;
    try {
      if (!statSync(file).isFile()) return;
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const m = /^(\w+)\s*(?:=\s*|\s+)(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1]!.toLowerCase();
      const words = m[2]!.split(/\s+/).map((w) => w.replace(/^"(.*)"$/, '$1')).filter(Boolean);
      if (key === 'host') {
        for (const w of words) {
          if (/[*?!]/.test(w) || seen.has(w)) continue;
          seen.add(w);
          hosts.push(w);
        }
      } else if (key === 'include') {
        for (const w of words) for (const f of expandInclude(w, home)) read(f);
      }
    }
  };
  read(configFile ?? join(home, '.ssh', 'config'));
  return hosts;
}

function expandInclude(pattern: string, home: string): string[] {
  const p = pattern.startsWith('~/') ? join(home, pattern.slice(2)) : isAbsolute(pattern) ? pattern : join(home, '.ssh', pattern);
  const name = basename(p);
  if (!/[*?]/.test(name)) return [p];
  const dir = dirname(p);
  if (!existsSync(dir)) return [];
  const re = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
}
