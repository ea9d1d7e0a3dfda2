// Wires a RunService to the test sshd (or localhost) with a throwaway store and work directory.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultHostSettings, type HostSettings } from '../../../src/remote/hostSettings';
import { LocalTransport } from '../../../src/remote/localTransport';
import type { MonitorOptions } from '../../../src/remote/runMonitor';
import { RunService } from '../../../src/remote/runService';
import { RunStore } from '../../../src/remote/runStore';
import { SshTransport, type SshTransportOptions } from '../../../src/remote/sshTransport';
import type { Transport } from '../../../src/remote/transport';
import { FAKE_RUNNER_DIR } from '../fixtures/tinyPlan';
import { killOnExit } from './processes';
import type { TestSshd } from './sshd';
import { PROJECT_PYTHON } from '../../helpers/python';

export interface Rig {
  service: RunService;
  store: RunStore;
  storeDir: string;
  workDir: string;
  settings: Map<string, HostSettings>;
  transports: Map<string, Transport>;
  dispose(): Promise<void>;
}

export function makeRig(sshd: TestSshd | null, hostOverrides: Record<string, Partial<HostSettings>> = {}, ssh: SshTransportOptions = {}, storeDir?: string, runnerDir = FAKE_RUNNER_DIR, monitor: MonitorOptions = { pollMs: 300 }): Rig {
  const dir = storeDir ?? mkdtempSync(join(tmpdir(), 'slayer-store-'));
  const workDir = mkdtempSync('/tmp/slw-');
  const store = new RunStore(dir);
  const unregister = killOnExit(() => [], storeDir ? [workDir] : [dir, workDir]);
  const settings = new Map<string, HostSettings>();
  const transports = new Map<string, Transport>();
  const settingsFor = (host: string): HostSettings => {
    let s = settings.get(host);
    if (!s) {
      s = { ...defaultHostSettings(host), python: PROJECT_PYTHON, workDir, ...hostOverrides[host] };
      settings.set(host, s);
    }
    return s;
  };
  const transportFor = (host: string): Transport => {
    let t = transports.get(host);
    if (!t) {
      t = host === 'localhost' || !sshd
        ? new LocalTransport()
        : new SshTransport(host, { configFile: sshd.clientConfig, controlDir: sshd.controlDir, serverAliveInterval: 1, serverAliveCountMax: 2, connectTimeout: 5, ...ssh });
      transports.set(host, t);
    }
    return t;
  };
  const service = new RunService(store, { runnerDir, transportFor, settingsFor, monitor });
  return {
    service, store, storeDir: dir, workDir, settings, transports,
    async dispose() {
      service.dispose();
      killLeftoverRuns(workDir);
      for (const t of transports.values()) await t.close();
      if (!storeDir) rmSync(dir, { recursive: true, force: true });
      rmSync(workDir, { recursive: true, force: true });
      unregister();
    },
  };
}

/** A failed test must not leave runs behind: kill the process group of every unfinished run. */
export function killLeftoverRuns(workDir: string): void {
  const dirs: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 3 || !existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (existsSync(join(p, 'run.json'))) dirs.push(p);
      else walk(p, depth + 1);
    }
  };
  walk(workDir, 0);
  for (const d of dirs) {
    if (existsSync(join(d, 'exit_code')) || !existsSync(join(d, 'pid'))) continue;
    const pgid = Number(readFileSync(join(d, 'pid'), 'utf8'));
    try {
      if (pgid > 1) process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
