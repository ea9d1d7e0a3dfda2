// The language server's remote-model answer (`slayer/remoteModelConfig`): config.json of the
// checkpoint at host:/path, from the checkpoint scan of src/modelfiles (config.json and every
// safetensors header in one SSH round trip) through RemoteModelCache. Used by the VS Code client
// and by `slayer lsp`; the server itself never opens connections.
import { checkpointScan } from '../modelfiles/remoteScan';
import type { CheckpointFinding, RemoteModelConfigParams, RemoteModelConfigResult } from '../protocol/languageServer';
import { RemoteModelCache } from './remoteModelCache';
import type { Transport } from './transport';

export function remoteConfigFetcher(transportFor: (host: string) => Transport): (p: RemoteModelConfigParams) => Promise<RemoteModelConfigResult> {
  const cache = new RemoteModelCache(transportFor, checkpointScan);
  return async ({ host, path }) => {
    try {
      const { configJson, report } = await cache.get({ host, path });
      if (configJson === null) return { status: 'error', message: `no config.json in ${path}` };
      // Header findings only when there are weights (a config-only directory serves tiny-model runs).
      const findings: CheckpointFinding[] = report.shards === 0 ? [] : report.diagnostics
        .filter((d): d is typeof d & { severity: 'error' | 'warning' } => d.severity !== 'info')
        .map((d) => ({ severity: d.severity, message: d.message }));
      return { status: 'ok', configJson, findings };
    } catch (e) {
      return { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  };
}
