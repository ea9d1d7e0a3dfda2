// The language server's remote-model answer (`slayer/remoteModelConfig`): config.json of the
// checkpoint at host:/path, from the checkpoint scan of src/modelfiles (config.json and every
// safetensors header in one SSH round trip) through createCheckpointCache. Used by the VS Code client
// and by `slayer lsp`; the server itself never opens connections.
import { checkpointFindings, type RemoteModelConfigParams, type RemoteModelConfigResult } from '../protocol/languageServer';
import { createCheckpointCache } from './remoteModelCache';
import type { Transport } from './transport';

export function remoteConfigFetcher(transportFor: (host: string) => Transport): (p: RemoteModelConfigParams) => Promise<RemoteModelConfigResult> {
  const cache = createCheckpointCache(transportFor);
  return async ({ host, path }) => {
    try {
      const { configJson, report } = await cache.get({ host, path });
      if (configJson === null) return { status: 'error', message: `no config.json in ${path}` };
      return { status: 'ok', configJson, findings: checkpointFindings(report) };
    } catch (e) {
      return { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };
}
