// A TCP proxy in front of the test sshd that can cut connections: `reset()` sends RSTs on every
// open connection; `blackhole()` silently drops all bytes of the open connections (a dead Wi-Fi,
// a sleeping laptop) until they are given up on, while new connections pass again.
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  server: Socket;
  dropped: boolean;
}

export class TcpProxy {
  private pairs = new Set<Pair>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static start(targetPort: number): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      let proxy: TcpProxy | null = null;
      const server = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        const pair: Pair = { client, server: upstream, dropped: false };
        proxy?.pairs.add(pair);
        client.on('data', (b) => { if (!pair.dropped) upstream.write(b); });
        upstream.on('data', (b) => { if (!pair.dropped) client.write(b); });
        const close = () => {
          client.destroy();
          upstream.destroy();
          proxy?.pairs.delete(pair);
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const addr = server.address();
        proxy = new TcpProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
        resolve(proxy);
      });
    });
  }

  get connections(): number {
    return [...this.pairs].filter((p) => !p.dropped).length;
  }

  reset(): void {
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.server.resetAndDestroy();
    }
    this.pairs.clear();
  }

  blackhole(): void {
    for (const p of this.pairs) p.dropped = true;
  }

  close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.server.destroy();
    }
    this.pairs.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
