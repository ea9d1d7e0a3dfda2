// A real single-node Slurm on loopback (munge + slurmctld + slurmd from Debian), all state under
// one temp directory, found by clients through SLURM_CONF (the test sshd passes it with SetEnv).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, freePort, killOnExit, killQuietly, waitFor } from './processes';

export const SLURM_TOOLS = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/sbin/mungekey', '/usr/bin/sbatch'];

export class TestSlurm {
  readonly conf: string;
  private pids: number[] = [];
  private readonly unregister: () => void;

  private constructor(readonly dir: string) {
    this.conf = join(dir, 'slurm.conf');
    this.unregister = killOnExit(() => this.pids, [dir]);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SLURM_CONF: this.conf };
  }

  static async start(): Promise<TestSlurm> {
    const s = new TestSlurm(mkdtempSync('/tmp/sls-'));
    try {
      await s.init();
    } catch (e) {
      await s.stop();
      throw e;
    }
    return s;
  }

  private async init(): Promise<void> {
    const d = this.dir;
    chmodSync(d, 0o755);
    for (const sub of ['munge', 'state', 'spool']) mkdirSync(join(d, sub), { mode: 0o755 });
    const key = join(d, 'munge.key');
    execFileSync('/usr/sbin/mungekey', ['--create', `--keyfile=${key}`]);
    chmodSync(key, 0o400);
    const socket = join(d, 'munge', 'munge.socket.2');
    execFileSync('/usr/sbin/munged', [`--socket=${socket}`, `--key-file=${key}`, `--pid-file=${d}/munged.pid`,
      `--log-file=${d}/munged.log`, `--seed-file=${d}/munged.seed`, '--force']);
    this.trackPid(`${d}/munged.pid`);
    for (const i of [0, 1]) symlinkSync('/dev/null', join(d, `gpu${i}`));
    writeFileSync(join(d, 'gres.conf'), `Name=gpu File=${d}/gpu[0-1]\n`);
    const [ctld, slurmd] = [await freePort(), await freePort()];
    writeFileSync(this.conf, [
      'ClusterName=slayertest', 'SlurmctldHost=localhost', `SlurmctldPort=${ctld}`, `SlurmdPort=${slurmd}`,
      'SlurmUser=root', 'SlurmdUser=root', 'AuthType=auth/munge', `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${d}/state`, `SlurmdSpoolDir=${d}/spool`, `SlurmctldPidFile=${d}/slurmctld.pid`,
      `SlurmdPidFile=${d}/slurmd.pid`, `SlurmctldLogFile=${d}/slurmctld.log`, `SlurmdLogFile=${d}/slurmd.log`,
      'CommunicationParameters=NoCtldInAddrAny,NoInAddrAny', 'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none',
      'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU', 'SchedulerParameters=batch_sched_delay=0',
      'AccountingStorageType=accounting_storage/none', 'JobCompType=jobcomp/filetxt', `JobCompLoc=${d}/jobcomp.txt`,
      'MinJobAge=3600', 'KillWait=5', 'MessageTimeout=2', 'SlurmdParameters=config_overrides', 'MailProg=/bin/true', 'ReturnToService=2',
      'GresTypes=gpu',
      'NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 Gres=gpu:2 State=UNKNOWN',
      'PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP', '',
    ].join('\n'));
    this.daemon('/usr/sbin/slurmctld', ['-f', this.conf]);
    await waitFor(() => existsSync(`${d}/slurmctld.pid`), 10_000, 'slurmctld');
    this.trackPid(`${d}/slurmctld.pid`);
    this.daemon('/usr/sbin/slurmd', ['-f', this.conf, '-N', 'localhost']);
    await waitFor(() => existsSync(`${d}/slurmd.pid`), 10_000, 'slurmd');
    this.trackPid(`${d}/slurmd.pid`);
    await waitFor(() => /idle/.test(spawnSync('sinfo', ['-h', '-o', '%T'], { env: this.env, encoding: 'utf8' }).stdout), 20_000, 'the node to be idle');
  }

  /** Stops slurmctld (jobs keep running on slurmd), as a controller restart on a cluster would. */
  async stopController(): Promise<void> {
    const file = join(this.dir, 'slurmctld.pid');
    const pid = Number(readFileSync(file, 'utf8').trim());
    killQuietly(pid, 'SIGTERM');
    await waitFor(() => !alive(pid), 15_000, 'slurmctld to stop');
    this.pids = this.pids.filter((p) => p !== pid);
  }

  async startController(): Promise<void> {
    const file = join(this.dir, 'slurmctld.pid');
    rmSync(file, { force: true });
    this.daemon('/usr/sbin/slurmctld', ['-f', this.conf]);
    await waitFor(() => existsSync(file), 10_000, 'slurmctld');
    this.trackPid(file);
  }

  private daemon(cmd: string, args: string[]): void {
    const r = spawnSync(cmd, args, { env: this.env, encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}${this.logs()}`);
  }

  private trackPid(file: string): void {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid > 1) this.pids.push(pid);
  }

  logs(): string {
    return ['slurmctld.log', 'slurmd.log'].map((f) => (existsSync(join(this.dir, f)) ? `\n--- ${f}\n${readFileSync(join(this.dir, f), 'utf8').slice(-2000)}` : '')).join('');
  }

  async stop(): Promise<void> {
    if (this.pids.length > 1) spawnSync('scancel', ['--full', '--user', String(process.getuid?.() ?? 0)], { env: this.env, timeout: 5000 });
    // Daemons in reverse start order; pid files can vanish before the process does, so wait on pids.
    for (const pid of [...this.pids].reverse()) {
      killQuietly(pid, 'SIGTERM');
      await waitFor(() => !alive(pid), 10_000, `pid ${pid} to exit`).catch(() => killQuietly(pid, 'SIGKILL'));
    }
    this.unregister();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
