#!/usr/bin/env node
// Draws the extension's icon, images/icon.png (128×128 RGBA): a stack of transformer blocks as the
// layer map shows a SLayer plan — new blocks (green) inserted among the shallow ones, frozen blocks
// (grey), the updated final block (purple) and the deleted deep blocks (red, struck through).
// No image library: shapes are rasterised with 4×4 supersampling and written as a PNG with zlib.
//   node scripts/make-icon.mjs [OUT]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

const SIZE = 128;
const SS = 4; // samples per pixel per axis
const root = new URL('..', import.meta.url).pathname;
const out = resolve(process.argv[2] ?? `${root}/images/icon.png`);

/** Premultiplied-free RGBA float canvas with "over" compositing. */
const px = new Float64Array(SIZE * SIZE * 4);

/** Coverage of a rounded rectangle at sample point (x, y). */
function inRoundRect(x, y, r) {
  if (x < r.x || x > r.x + r.w || y < r.y || y > r.y + r.h) return false;
  const rad = r.r ?? 0;
  const cx = Math.min(Math.max(x, r.x + rad), r.x + r.w - rad);
  const cy = Math.min(Math.max(y, r.y + rad), r.y + r.h - rad);
  return (x - cx) ** 2 + (y - cy) ** 2 <= rad * rad;
}

/** Paints a shape given by `inside(x, y)` in `color` ([r, g, b, a], 0–255 and 0–1). */
function paint(inside, [r, g, b, a]) {
  for (let py = 0; py < SIZE; py++) {
    for (let pxi = 0; pxi < SIZE; pxi++) {
      let hits = 0;
      for (let sy = 0; sy < SS; sy++) for (let sx = 0; sx < SS; sx++) if (inside(pxi + (sx + 0.5) / SS, py + (sy + 0.5) / SS)) hits++;
      if (!hits) continue;
      const alpha = (a * hits) / (SS * SS);
      const i = (py * SIZE + pxi) * 4;
      const da = px[i + 3];
      const oa = alpha + da * (1 - alpha);
      for (const [k, c] of [[0, r], [1, g], [2, b]]) px[i + k] = oa ? (c * alpha + px[i + k] * da * (1 - alpha)) / oa : 0;
      px[i + 3] = oa;
    }
  }
}

const rect = (x, y, w, h, r, color) => paint((sx, sy) => inRoundRect(sx, sy, { x, y, w, h, r }), color);

const GREY = [150, 160, 175, 1];
const GREEN = [120, 214, 120, 1];
const PURPLE = [186, 134, 232, 1];
const RED = [240, 84, 84, 1];

// Background tile.
rect(4, 4, 120, 120, 22, [30, 36, 52, 1]);
// The stack, top (shallow) to bottom (deep): k N k N k k k F D D
const rows = ['k', 'n', 'k', 'n', 'k', 'k', 'k', 'f', 'd', 'd'];
const top = 15;
const rowH = 10;
for (const [i, kind] of rows.entries()) {
  const y = top + i * rowH;
  const x = kind === 'n' ? 30 : 24;
  const w = kind === 'n' ? 74 : 80;
  const color = kind === 'n' ? GREEN : kind === 'f' ? PURPLE : kind === 'd' ? [...RED.slice(0, 3), 0.55] : GREY;
  rect(x, y, w, rowH - 3, 2.5, color);
  if (kind === 'd') rect(18, y + (rowH - 3) / 2 - 1.25, 92, 2.5, 1, RED); // struck through
}
// An arrow into the first new block: "inserted here".
paint((x, y) => y >= 23 && y <= 34 && x >= 10 && x <= 10 + (y <= 28.5 ? y - 23 : 34 - y) * 2.2, GREEN);

// PNG: signature, IHDR, IDAT (filter byte 0 per row), IEND.
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) {
  raw[y * (SIZE * 4 + 1)] = 0;
  for (let x = 0; x < SIZE; x++) {
    const i = (y * SIZE + x) * 4;
    const o = y * (SIZE * 4 + 1) + 1 + x * 4;
    raw[o] = Math.round(px[i]);
    raw[o + 1] = Math.round(px[i + 1]);
    raw[o + 2] = Math.round(px[i + 2]);
    raw[o + 3] = Math.round(px[i + 3] * 255);
  }
}
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, png);
console.log(`icon: ${out} (${png.length} bytes)`);
