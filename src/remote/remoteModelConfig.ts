// The language server's remote-model answer (`slayer/remoteModelConfig`): config.json of the
// checkpoint at host:/path, read with one SSH round trip through RemoteModelCache. Used by the VS
// Code client and by `slayer lsp`; the server itself never opens connections.
import type { RemoteModelConfigParams, RemoteModelConfigResult } from '../protocol/languageServer';
import { RemoteModelCache, type RemoteScan } from './remoteModelCache';
import { shPath } from './shellQuote';
import type { Transport } from './transport';

export const configJsonScan: RemoteScan<string> = {
  command: (path) => `cat ${shPath(`${path.replace(/\/+$/, '')}/config.json`)}`,
  parse: (out) => out.toString('utf8'),
};

export function remoteConfigFetcher(transportFor: (host: string) => Transport): (p: RemoteModelConfigParams) => Promise<RemoteModelConfigResult> {
  const cache = new RemoteModelCache(transportFor, configJsonScan);
  return async ({ host, path }) => {
    try {
      return { status: 'ok', configJson: await cache.get({ host, path }) };
    } catch (e) {
      return { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };
}
