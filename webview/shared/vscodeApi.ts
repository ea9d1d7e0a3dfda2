// The one door to the extension host: typed posting, and the state VS Code keeps for the view
// (restored after the panel is hidden or the editor reloads). `acquireVsCodeApi` is injected by
// VS Code into the webview (and by the test harness's stub); it may be called only once.
import { isHostMessage, WEBVIEW_PROTOCOL_VERSION, type HostMessage, type ViewKind, type ViewMessage } from '@slayer/messages/webviewMessages';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi();

export function post(message: ViewMessage): void {
  api.postMessage(message);
}

/** The saved state merged over defaults, so a state from an older build never lacks a field. */
export function loadState<T extends object>(defaults: T): T {
  const saved = api.getState();
  if (typeof saved !== 'object' || saved === null) return { ...defaults };
  const out = { ...defaults };
  for (const k of Object.keys(defaults) as (keyof T)[]) {
    const v = (saved as Partial<T>)[k];
    if (v !== undefined && typeof v === typeof defaults[k]) out[k] = v as T[keyof T];
  }
  return out;
}

export function saveState<T extends object>(state: T): void {
  api.setState(state);
}

/** Listens for host messages, then tells the host the view is ready (it sends nothing before). */
export function connect(view: ViewKind, onMessage: (m: HostMessage) => void): void {
  window.addEventListener('message', (e: MessageEvent<unknown>) => {
    if (isHostMessage(e.data)) onMessage(e.data);
  });
  post({ type: 'ready', view, protocol: WEBVIEW_PROTOCOL_VERSION });
}
