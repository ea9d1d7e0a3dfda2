// One transport per host, shared by every run on it (one SSH control master per host).
import { LocalTransport } from './localTransport';
import { LOCALHOST, type HostSettings } from './hostSettings';
import { SshTransport } from './sshTransport';
import type { Transport } from './transport';

export class TransportPool {
  private transports = new Map<string, Transport>();

  constructor(
    private readonly settingsFor: (host: string) => HostSettings,
    private readonly sshConfigFile?: string,
  ) {}

  get(host: string): Transport {
    let t = this.transports.get(host);
    if (!t) {
      t = host === LOCALHOST
        ? new LocalTransport()
        : new SshTransport(host, { configFile: this.sshConfigFile, hostKeyPolicy: this.settingsFor(host).hostKeyPolicy });
      this.transports.set(host, t);
    }
    return t;
  }

  async closeAll(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}
