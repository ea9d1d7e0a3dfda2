// CSV export of training curves: one row per point, every run and stage, raw values plus the
// smoothed loss shown on screen. RFC 4180 quoting for the free-text columns.
export function csvField(v: string | number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvRow(fields: (string | number)[]): string {
  return fields.map(csvField).join(',');
}
