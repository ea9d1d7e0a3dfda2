// The set-up the `slayer run` CLI tests share (test/remote/cli.test.ts, evalRun.test.ts): a temp
// directory with hosts.json, the CLI flags that point at it (hosts, store, runner, and the test
// sshd's client config when one is started), and a stop that kills leftover runs, stops sshd and
// removes the directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo } from '../../../src/cli/commands/run';
import { PROJECT_PYTHON } from '../../helpers/python';
import { killLeftoverRuns } from './remoteFixture';
import { TestSshd } from './sshd';

/** A CliIo that keeps what the command printed. */
export class Capture implements CliIo {
  stdout = '';
  stderr = '';
  isTty = false;
  out(t: string): void {
    this.stdout += t;
  }
  err(t: string): void {
    this.stderr += t;
  }
}

export interface CliRig {
  readonly dir: string;
  /** Where every host of hosts.json runs (its workDir). */
  readonly workDir: string;
  readonly sshd: TestSshd | null;
  /** `--hosts … --store … --runner …` (and `--ssh-config …` with sshd). */
  readonly common: string[];
  stop(): Promise<void>;
}

export interface CliRigOptions {
  /** The runner directory uploaded to the hosts. */
  runner: string;
  /** Start the test sshd (host `slayer-test`). */
  sshd: boolean;
  /** Host name → settings beyond the project Python and the rig's work directory. */
  hosts: (dir: string) => Record<string, Record<string, unknown>>;
}

export async function startCliRig(prefix: string, opts: CliRigOptions): Promise<CliRig> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const workDir = join(dir, 'work');
  const sshd = opts.sshd ? await TestSshd.start() : null;
  const hosts = Object.fromEntries(Object.entries(opts.hosts(dir)).map(([name, s]) => [name, { python: PROJECT_PYTHON, workDir, ...s }]));
  writeFileSync(join(dir, 'hosts.json'), JSON.stringify(hosts));
  const common = ['--hosts', join(dir, 'hosts.json'), '--store', join(dir, 'store'), '--runner', opts.runner, ...(sshd ? ['--ssh-config', sshd.clientConfig] : [])];
  return {
    dir, workDir, sshd, common,
    async stop() {
      killLeftoverRuns(workDir);
      await sshd?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
