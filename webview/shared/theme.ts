// Colours from the VS Code theme (the --vscode-* CSS variables VS Code sets on the webview's
// document), re-read when the user switches theme: VS Code then rewrites the variables on <html>
// and the theme class on <body>, which a MutationObserver sees.
export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  /** Series colours, one per run. */
  palette: string[];
  trainable: string;
  deleted: string;
  added: string;
  kind: 'light' | 'dark' | 'high-contrast';
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
    || getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

export function readTheme(): Theme {
  const cls = document.body.classList;
  const kind = cls.contains('vscode-high-contrast') || cls.contains('vscode-high-contrast-light') ? 'high-contrast' : cls.contains('vscode-light') ? 'light' : 'dark';
  const fg = cssVar('--vscode-editor-foreground', cssVar('--vscode-foreground', kind === 'light' ? '#333333' : '#cccccc'));
  return {
    foreground: fg,
    muted: cssVar('--vscode-descriptionForeground', fg),
    grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', kind === 'light' ? '#d4d4d4' : '#454545')),
    background: cssVar('--vscode-editor-background', kind === 'light' ? '#ffffff' : '#1e1e1e'),
    font: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    palette: [
      cssVar('--vscode-charts-blue', '#3794ff'),
      cssVar('--vscode-charts-orange', '#d18616'),
      cssVar('--vscode-charts-green', '#89d185'),
      cssVar('--vscode-charts-red', '#f14c4c'),
      cssVar('--vscode-charts-yellow', '#cca700'),
      cssVar('--vscode-charts-purple', '#b180d7'),
    ],
    // The paper draws the tuned blocks in purple.
    trainable: cssVar('--vscode-charts-purple', '#b180d7'),
    deleted: cssVar('--vscode-charts-red', '#f14c4c'),
    added: cssVar('--vscode-charts-green', '#89d185'),
    kind,
  };
}

/** Calls `apply` with the new theme whenever VS Code changes it; returns a stop function. */
export function onThemeChange(apply: (t: Theme) => void): () => void {
  let last = JSON.stringify(readTheme());
  const check = (): void => {
    const t = readTheme();
    const key = JSON.stringify(t);
    if (key !== last) {
      last = key;
      apply(t);
    }
  };
  const obs = new MutationObserver(check);
  obs.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
  return () => obs.disconnect();
}

/** `#rrggbb` or `rgb(…)` with an alpha, for fills and faded raw curves. */
export function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (hex) {
    const n = parseInt(hex[1]!, 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color.trim());
  if (rgb) return `rgba(${rgb[1]!.trim()}, ${rgb[2]!.trim()}, ${rgb[3]!.trim()}, ${alpha})`;
  return color;
}
