// SVG charts for `make bench`, drawn here in a few lines of string building: no charting library.
//
// latencyChart: one row per series, side by side on one millisecond axis. Each row is the
// distribution of its samples (a histogram, bar height = share of samples), a box from p25 to
// p75 with the median marked, whiskers from p5 to p95, and p50 / p99 printed at the right.
//
// The freshness chart (how long after a sign-out each location refuses, over time) joins this
// file once the revocation authority lands; bench/run.mjs lists the charts it writes (CHARTS).

const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

/** The q-quantile of sorted samples (nearest rank). */
export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** A round axis maximum at or above `value`, and its tick step. */
function axis(value) {
  const steps = [0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500];
  const step = steps.find((s) => value / s <= 8) ?? Math.ceil(value / 8);
  return { max: Math.ceil(value / step) * step, step };
}

/**
 * series: [{ label, sublabel?, samples: number[] (ms), color }]; subtitle: lines of text. The axis
 * ends a little past the largest p95 (rounded up), so the bulk of each distribution stays
 * readable; slower samples land in the last bin and are counted as "(+n)" beside the p99.
 */
export function latencyChart(series, { title, subtitle = [], width = 860 } = {}) {
  const rowHeight = 64;
  const left = 250;
  const right = 130;
  const top = 48 + subtitle.length * 17;
  const plotWidth = width - left - right;
  const sorted = series.map((s) => [...s.samples].sort((a, b) => a - b));
  const { max, step } = axis(Math.max(...sorted.map((s) => quantile(s, 0.95))) * 1.3);
  const x = (ms) => left + (Math.min(ms, max) / max) * plotWidth;
  const height = top + series.length * rowHeight + 44;
  const bins = 80;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(title ?? "latency")}">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  if (title) out.push(`<text x="16" y="28" ${FONT} font-size="17" font-weight="600" fill="#111">${escape(title)}</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="16" y="${50 + i * 17}" ${FONT} font-size="12.5" fill="#555">${escape(line)}</text>`));

  // Grid and axis labels.
  const axisY = top + series.length * rowHeight;
  for (let t = 0; t <= max + 1e-9; t += step) {
    const gx = x(t).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${axisY}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${gx}" y="${axisY + 16}" ${FONT} font-size="11" fill="#555" text-anchor="middle">${+t.toFixed(2)}</text>`);
  }
  out.push(`<text x="${left + plotWidth / 2}" y="${axisY + 34}" ${FONT} font-size="12" fill="#333" text-anchor="middle">milliseconds per request (loopback, local workerd)</text>`);

  series.forEach((s, i) => {
    const data = sorted[i];
    const y0 = top + i * rowHeight;
    const mid = y0 + rowHeight / 2;
    out.push(`<text x="16" y="${mid - 3}" ${FONT} font-size="13" fill="#111">${escape(s.label)}</text>`);
    if (s.sublabel) out.push(`<text x="16" y="${mid + 13}" ${FONT} font-size="11" fill="#666">${escape(s.sublabel)}</text>`);

    // Histogram above the midline.
    const counts = new Array(bins).fill(0);
    for (const v of data) counts[Math.min(bins - 1, Math.floor((Math.min(v, max) / max) * bins))] += 1;
    const peak = Math.max(...counts);
    const barWidth = plotWidth / bins;
    counts.forEach((c, b) => {
      if (!c) return;
      const h = (c / peak) * (rowHeight / 2 - 8);
      out.push(`<rect x="${(left + b * barWidth).toFixed(1)}" y="${(mid - h).toFixed(1)}" width="${(barWidth - 0.6).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}" fill-opacity="0.35"/>`);
    });

    // Box (p25-p75), median, whiskers (p5-p95) below the midline.
    const [p5, p25, p50, p75, p95, p99] = [0.05, 0.25, 0.5, 0.75, 0.95, 0.99].map((q) => quantile(data, q));
    const by = mid + 4;
    out.push(`<line x1="${x(p5).toFixed(1)}" y1="${by + 7}" x2="${x(p95).toFixed(1)}" y2="${by + 7}" stroke="${s.color}" stroke-width="1.5"/>`);
    out.push(`<rect x="${x(p25).toFixed(1)}" y="${by}" width="${Math.max(1, x(p75) - x(p25)).toFixed(1)}" height="14" fill="${s.color}" fill-opacity="0.85" rx="2"/>`);
    out.push(`<line x1="${x(p50).toFixed(1)}" y1="${by - 2}" x2="${x(p50).toFixed(1)}" y2="${by + 16}" stroke="#111" stroke-width="2"/>`);
    const beyond = data.filter((v) => v > max).length;
    out.push(`<text x="${width - right + 10}" y="${mid - 3}" ${FONT} font-size="12" fill="#111">p50 ${p50.toFixed(2)} ms</text>`);
    out.push(`<text x="${width - right + 10}" y="${mid + 13}" ${FONT} font-size="11" fill="#666">p99 ${p99.toFixed(2)} ms${beyond ? ` (+${beyond})` : ""}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
