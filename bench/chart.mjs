/**
 * The benches' charts, written as SVG in Node (no browser, no dependency): horizontal bar
 * pairs (bench/harness.mjs) and lines over time (bench/soak.mjs). Shapes and text only, so a
 * chart is a few kB, diffable, and opens in any browser or image viewer.
 */
const FONT = 'font-family="sans-serif" font-size="12"';

/** Text safe inside SVG. */
export const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const text = (x, y, s, fill = '#000') => `<text x="${x}" y="${y}" fill="${fill}" ${FONT}>${esc(s)}</text>`;
const svg = (w, h, body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">\n` +
  `<rect width="${w}" height="${h}" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;

/**
 * One row per item: a label, then bars (each `{ value, max, color }`, drawn at value/max of
 * `barWidth`, at least 1 px, never past it) stacked in the row, then a note.
 * @param {{ title: string, rows: { label: string, bars: { value: number, max: number, color: string }[], note?: string }[], labelWidth?: number, barWidth?: number }} o
 */
export function barChart({ title, rows, labelWidth = 330, barWidth = 350 }) {
  const rowH = 22, top = 40, w = labelWidth + barWidth + 420, h = top + rows.length * rowH + 20;
  const body = [text(10, 20, title)];
  rows.forEach((r, k) => {
    const y = top + k * rowH;
    body.push(text(10, y + 14, r.label));
    const bh = Math.floor(18 / Math.max(1, r.bars.length));
    r.bars.forEach((b, i) => {
      const frac = b.max > 0 && Number.isFinite(b.value) ? Math.min(1, Math.max(0, b.value / b.max)) : 0;
      body.push(`<rect x="${labelWidth}" y="${y + 2 + i * (bh + 1)}" width="${Math.max(1, frac * barWidth).toFixed(1)}" height="${bh - 1}" fill="${b.color}"/>`);
    });
    if (r.note) body.push(text(labelWidth + barWidth + 10, y + 14, r.note));
  });
  return svg(w, h, body);
}

/**
 * Series over time, each scaled to its own `max` (named in the legend); `events` are labels at
 * their time along the top.
 * @param {{ title: string, points: Record<string, number>[], x: string, series: { key: string, name: string, color: string, max: number }[], events?: { at: number, label: string }[] }} o
 */
export function lineChart({ title, points, x, series, events = [], width = 1000, height = 520 }) {
  const L = 60, R = 20, T = 30, B = 40, pw = width - L - R, ph = height - T - B;
  const xMax = Math.max(1e-9, ...points.map((p) => +p[x] || 0));
  const px = (v) => (L + (pw * v) / xMax).toFixed(1);
  const body = [text(L, 18, title), `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`];
  for (let m = 0; m <= xMax / 60; m++) body.push(text(+px(m * 60) - 12, height - 20, `${m} min`));
  series.forEach((s, si) => {
    const pts = points.map((p) => `${px(+p[x] || 0)},${(T + ph - (ph * Math.min(s.max, Math.max(0, +p[s.key] || 0))) / s.max).toFixed(1)}`);
    body.push(`<polyline fill="none" stroke="${s.color}" points="${pts.join(' ')}"/>`);
    body.push(text(L + 10 + si * 220, height - 5, `${s.name} (max ${s.max.toFixed(0)})`, s.color));
  });
  for (const e of events) body.push(text(+px(e.at) - 10, T + 12, e.label, '#555'));
  return svg(width, height, body);
}
