// The language server's remote-model answer (`slayer/remoteModelConfig`): config.json of the
// checkpoint at host:/path, from the checkpoint scan of src/modelfiles (config.json and every
// safetensors header in one SSH round trip) through RemoteModelCache. Used by the VS Code client
// and by `slayer lsp`; the server itself never opens connections.
import { checkpointScan } from '../modelfiles/remoteScan';
import type { RemoteModelConfigParams, RemoteModelConfigResult } from '../protocol/languageServer';
import { RemoteModelCache } from './remoteModelCache';
import type { Transport } from './transport';

export function remoteConfigFetcher(transportFor: (host: string) => Transport): (p: RemoteModelConfigParams) => Promise<RemoteModelConfigResult> {
  const cache = new RemoteModelCache(transportFor, checkpointScan);
  return async ({ host, path }) => {
    try {
      const { configJson } = await cache.get({ host, path });
      if (configJson === null) return { status: 'error', message: `no config.json in ${path}` };
      return { status: 'ok', configJson };
    } catch (e) {
      return { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };
}
