// What completion knows beyond the document: SSH host aliases, dataset names used by the
// workspace's plans, and local checkpoint directories (a folder holding config.json). Each is
// read lazily and kept briefly, so completion never walks the disk on every keystroke.
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '@slayer/core';
import { MAX_PLAN_CHARS } from '@slayer/core/limits';
import { readRegularFileSync } from '@slayer/modelfiles/regularFile';
import type { PlanDocuments } from './documents';
import { sshHostAliases } from './sshHosts';

const HOSTS_TTL_MS = 5_000;
const DATASETS_TTL_MS = 30_000;
const MAX_PLAN_FILES = 500;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '.venv', '__pycache__']);

/** Dataset names written in a plan's `data` lines. */
export function datasetNames(text: string): string[] {
  const out: string[] = [];
  for (const st of parsePlan(text).ast.stages) {
    for (const s of st.settings) {
      if (s.key.text !== 'data') continue;
      for (const part of s.value.text.split(',')) {
        const name = part.replace(/:\s*\S+\s*$/, '').trim();
        if (name && !/\s/.test(name)) out.push(name);
      }
    }
  }
  return out;
}

export class WorkspaceIndex {
  sshConfigFile: string | undefined;
  private folders: string[] = [];
  private hostsCache: { at: number; hosts: string[] } | null = null;
  private plansCache: { at: number; names: string[] } | null = null;

  constructor(private readonly documents: PlanDocuments, private readonly home = homedir()) {}

  setFolders(folders: string[]): void {
    this.folders = folders;
    this.plansCache = null;
  }

  planChanged(): void {
    this.plansCache = null;
  }

  hosts(): string[] {
    const now = Date.now();
    if (!this.hostsCache || now - this.hostsCache.at > HOSTS_TTL_MS) {
      this.hostsCache = { at: now, hosts: sshHostAliases(this.sshConfigFile ?? join(this.home, '.ssh', 'config'), this.home) };
    }
    return this.hostsCache.hosts;
  }

  /** Names used in open documents (fresh) and in the workspace's saved plans (cached). */
  datasets(): string[] {
    const now = Date.now();
    if (!this.plansCache || now - this.plansCache.at > DATASETS_TTL_MS) {
      const names: string[] = [];
      for (const f of this.planFiles()) {
        try {
          for (const n of datasetNames(readRegularFileSync(f, MAX_PLAN_CHARS) ?? '')) names.push(n);
        } catch {
          // unreadable file: skip
        }
      }
      this.plansCache = { at: now, names };
    }
    const open = this.documents.texts().flatMap((d) => datasetNames(d.text));
    return [...new Set([...open, ...this.plansCache.names])].sort();
  }

  private planFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: string, depth: number): void => {
      if (depth > 6 || out.length >= MAX_PLAN_FILES) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (out.length >= MAX_PLAN_FILES) return;
        if (e.isDirectory() && !SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) walk(join(dir, e.name), depth + 1);
        else if (e.isFile() && e.name.endsWith('.slayer')) out.push(join(dir, e.name));
      }
    };
    for (const f of this.folders) walk(f, 0);
    return out;
  }

  /** Sub-directories of `dir`, flagged when they hold a checkpoint (config.json). */
  listDirs(dir: string): { name: string; checkpoint: boolean }[] {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(join(dir, e.name))))
      .filter((e) => !SKIP_DIRS.has(e.name) && !e.name.startsWith('.'))
      .map((e) => ({ name: e.name, checkpoint: isFile(join(dir, e.name, 'config.json')) }))
      .sort((x, y) => x.name.localeCompare(y.name));
  }

  /** Checkpoint directories at most two levels below `dir`, as relative paths (`./models/x`). */
  checkpointsUnder(dir: string): string[] {
    const out: string[] = [];
    for (const d of this.listDirs(dir)) {
      if (d.checkpoint) out.push(`./${d.name}`);
      else for (const c of this.listDirs(join(dir, d.name))) if (c.checkpoint) out.push(`./${d.name}/${c.name}`);
    }
    return out;
  }

  get homeDir(): string {
    return this.home;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
