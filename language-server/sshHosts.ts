// Host aliases from an OpenSSH client config, for completion after `run on`: every `Host` name that
// is not a pattern (no `*`, `?`, `!`), following `Include` (relative paths are under ~/.ssh, globs
// in the file name are expanded), each file read once.
import { readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { readRegularFileSync } from '@slayer/modelfiles/regularFile';

const MAX_SSH_CONFIG_BYTES = 1024 * 1024;

function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  const re = new RegExp(`^${base.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return readdirSync(dir).filter((f) => re.test(f)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function sshHostAliases(configFile: string, home: string): string[] {
  const hosts: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string, depth: number): void => {
    if (seen.has(file) || depth > 16) return;
    seen.add(file);
    let text: string;
    try {
      // Refuses a FIFO or device (an Include may name anything) before opening it.
      const t = readRegularFileSync(file, MAX_SSH_CONFIG_BYTES);
      if (t === undefined) return;
      text = t;
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line);
      if (!m) continue;
      const key = m[1]!.toLowerCase();
      const args = m[2]!.split(/\s+/).map((a) => a.replace(/^"(.*)"$/, '$1')).filter(Boolean);
      if (key === 'host') {
        for (const h of args) if (!/[*?!]/.test(h) && !hosts.includes(h)) hosts.push(h);
      } else if (key === 'include') {
        for (const inc of args) {
          const expanded = inc.startsWith('~/') ? join(home, inc.slice(2)) : isAbsolute(inc) ? inc : join(home, '.ssh', inc);
          for (const f of globFiles(expanded)) visit(f, depth + 1);
        }
      }
    }
  };
  visit(configFile, 0);
  return hosts;
}
