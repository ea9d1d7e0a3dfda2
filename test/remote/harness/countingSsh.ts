// A test sshd with one SSH transport that counts its exec calls — for tests that assert how many
// round trips a piece of code makes. Call inside a describe(): it registers the before/after hooks.
import { after, before } from 'node:test';
import { SshTransport } from '../../../src/remote/sshTransport';
import type { ExecOptions, ExecResult, Transport } from '../../../src/remote/transport';
import { TestSshd } from './sshd';

export class CountingTransport implements Transport {
  calls = 0;
  constructor(private readonly inner: Transport) {}
  get name(): string {
    return this.inner.name;
  }
  exec(script: string, options?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    return this.inner.exec(script, options);
  }
  stream(script: string, onData: (chunk: Buffer) => void) {
    return this.inner.stream(script, onData);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface CountingSsh {
  sshd: TestSshd;
  /** Talks to host `slayer-test` on the test sshd. */
  transport: CountingTransport;
}

/** Starts the sshd before the suite's tests and stops it after; the fields are set once `before` ran. */
export function useCountingSsh(): CountingSsh {
  const rig = {} as CountingSsh;
  before(async () => {
    rig.sshd = await TestSshd.start();
    rig.transport = new CountingTransport(new SshTransport('slayer-test', { configFile: rig.sshd.clientConfig, controlDir: rig.sshd.controlDir }));
  });
  after(async () => {
    await rig.transport?.close();
    await rig.sshd?.stop();
  });
  return rig;
}
