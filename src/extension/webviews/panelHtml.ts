// The HTML of every SLayer webview panel: one function, used by the extension and by the Chromium
// tests, so the tests load exactly the page (and the Content-Security-Policy) users get. No
// `vscode` import here. The policy allows only our bundle (by nonce), our one <style> (by nonce),
// images from the extension or data: URLs (PNG export), and nothing else: no network, no eval.
import { randomBytes } from 'node:crypto';
import type { ViewKind } from '../../messages/webviewMessages';

/** 128 bits from the OS CSPRNG, base64 (valid in a CSP nonce-source). */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface PanelHtmlOptions {
  view: ViewKind;
  title: string;
  /** `webview.cspSource`: the origin VS Code serves extension resources from. */
  cspSource: string;
  /** `webview.asWebviewUri(dist/webview/<view>View.js)`. */
  scriptUri: string;
  nonce: string;
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderPanelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(o.nonce)) throw new Error('nonce must be base64 from a cryptographic source');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeAttr(o.title)}</title>
<style nonce="${o.nonce}">${PANEL_CSS}</style>
</head>
<body data-view="${o.view}">
<main id="app"></main>
<script nonce="${o.nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>`;
}

// Theme through the --vscode-* variables VS Code defines on the webview document.
const PANEL_CSS = `
[hidden] { display: none !important; }
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); margin: 0; padding: 8px 12px; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 3px 10px; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
select, input { color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); }
.toolbar { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin-bottom: 6px; }
.runs { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 6px; }
.state { color: var(--vscode-descriptionForeground); font-size: 90%; }
.note { color: var(--vscode-descriptionForeground); }
.error { color: var(--vscode-errorForeground); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 10px; }
.run-swatch { vertical-align: middle; }
.style-key { font-size: 90%; margin: 0 0 6px; }
.chart { position: relative; height: 260px; }
.chart.tall { height: 300px; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: middle; }
.swatch.trainable { background: var(--vscode-charts-purple); }
.swatch.deleted { background: var(--vscode-charts-red); }
.swatch.added { background: var(--vscode-charts-green); }
.offer { border: 1px solid var(--vscode-focusBorder); padding: 6px 10px; margin: 6px 0; display: flex; gap: 10px; align-items: center; }
.suggestion { border: 1px dashed var(--vscode-charts-green); padding: 4px 10px; margin: 6px 0; }
.suggestion ul { margin: 4px 0; padding-left: 18px; }
#suggestion-lines { font-family: var(--vscode-editor-font-family, monospace); white-space: pre; list-style: none; padding-left: 0; }
.stacks { display: grid; grid-template-columns: minmax(48px, 0.5fr) minmax(40px, 1fr) minmax(150px, 1.6fr); align-items: start; max-width: 760px; }
.links { display: block; }
.links line { vector-effect: non-scaling-stroke; }
svg.key { display: inline-block; vertical-align: middle; margin-right: 4px; }
.key-new { color: var(--vscode-charts-green); }
.key-deleted { color: var(--vscode-charts-red); text-decoration: line-through; }
.stack { list-style: none; margin: 0; padding: 0; }
.stack li { box-sizing: border-box; height: 20px; line-height: 20px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 0 6px; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
.stack li.deleted { text-decoration: line-through; color: var(--vscode-charts-red); }
.stack li.trainable { background: color-mix(in srgb, var(--vscode-charts-purple) 25%, transparent); font-weight: 600; }
.stack li.new { color: var(--vscode-charts-green); }
.links line { stroke: var(--vscode-descriptionForeground); stroke-width: 1; }
.links line.new { stroke: var(--vscode-charts-green); }
.links line.final { stroke: var(--vscode-charts-purple); }
.totals td { padding: 1px 10px 1px 0; }
.totals td.num { text-align: right; font-variant-numeric: tabular-nums; }
h2 { font-size: 110%; margin: 8px 0 4px; font-weight: 600; }
table.scores { border-collapse: collapse; margin: 6px 0; font-variant-numeric: tabular-nums; }
table.scores th, table.scores td { padding: 2px 10px 2px 0; text-align: left; border-bottom: 1px solid var(--vscode-editorWidget-border, transparent); }
table.scores td.num, table.scores th.num { text-align: right; }
.better { color: var(--vscode-charts-green); }
.worse { color: var(--vscode-charts-red); }
.verdict { margin: 2px 0; }
`;
