// SVG charts for `make bench`, drawn here in a few lines of string building: no charting library.
//
// latencyChart: one row per series, side by side on one millisecond axis. Each row is the
// distribution of its samples (a histogram, bar height = share of samples), a box from p25 to
// p75 with the median marked, whiskers from p5 to p95, and p50 / p99 printed at the right.
//
// freshnessChart: how long after a sign-out's answer each location refuses the signed-out token,
// for every sign-out of a run, over the run's time, on a log axis: with the revocation authority,
// after it was killed, and with KV alone (tests/freshness/harness.mjs measures them).
// bench/run.mjs lists the charts it writes (CHARTS).

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

/**
 * series: [{ label, color, points: [{ t, ms }] }] where t is seconds since the series' run began
 * and ms the time from a sign-out's answer to the location's refusal; marks: [{ ms, label }]
 * (horizontal lines: a goal, a receipt, a window). Log scale from 10 ms to the largest value.
 */
export function freshnessChart(series, { title, subtitle = [], marks = [], width = 860 } = {}) {
  const left = 70;
  const right = 210;
  const top = 48 + subtitle.length * 17;
  const plotHeight = 300;
  const height = top + plotHeight + 56;
  const plotWidth = width - left - right;
  const all = series.flatMap((s) => s.points);
  const tMax = Math.max(1, ...all.map((p) => p.t));
  const lo = 10;
  const hi = 10 ** Math.ceil(Math.log10(Math.max(lo * 10, ...all.map((p) => p.ms), ...marks.map((m) => m.ms))));
  const x = (t) => left + (t / tMax) * plotWidth;
  const y = (ms) => top + plotHeight - ((Math.log10(Math.max(lo, ms)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotHeight;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escape(title ?? "freshness")}">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  if (title) out.push(`<text x="16" y="28" ${FONT} font-size="17" font-weight="600" fill="#111">${escape(title)}</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="16" y="${50 + i * 17}" ${FONT} font-size="12.5" fill="#555">${escape(line)}</text>`));
  for (let decade = lo; decade <= hi; decade *= 10) {
    const gy = y(decade).toFixed(1);
    const label = decade >= 1000 ? `${decade / 1000} s` : `${decade} ms`;
    out.push(`<line x1="${left}" y1="${gy}" x2="${left + plotWidth}" y2="${gy}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 8}" y="${(+gy + 4).toFixed(1)}" ${FONT} font-size="11" fill="#555" text-anchor="end">${label}</text>`);
  }
  const step = [5, 10, 15, 20, 30, 60].find((s) => tMax / s <= 10) ?? Math.ceil(tMax / 10);
  for (let t = 0; t <= tMax + 1e-9; t += step) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${top + plotHeight + 16}" ${FONT} font-size="11" fill="#555" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 36}" ${FONT} font-size="12" fill="#333" text-anchor="middle">seconds into the run (each point: one sign-out, one location: its last isolate to refuse)</text>`);
  for (const mark of marks) {
    const my = y(mark.ms).toFixed(1);
    out.push(`<line x1="${left}" y1="${my}" x2="${left + plotWidth}" y2="${my}" stroke="#888" stroke-dasharray="5 4"/>`);
    out.push(`<text x="${left + plotWidth + 6}" y="${(+my + 4).toFixed(1)}" ${FONT} font-size="11" fill="#444">${escape(mark.label)}</text>`);
  }
  series.forEach((s, i) => {
    for (const p of s.points) out.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="3" fill="${s.color}" fill-opacity="0.75"/>`);
    const ms = s.points.map((p) => p.ms).sort((a, b) => a - b);
    const ly = top + 14 + i * 34;
    const seconds = (v) => (v / 1000).toFixed(2);
    out.push(`<circle cx="${width - right + 70}" cy="${ly - 4}" r="4" fill="${s.color}"/>`);
    out.push(`<text x="${width - right + 80}" y="${ly}" ${FONT} font-size="12" fill="#111">${escape(s.label)}</text>`);
    if (ms.length) out.push(`<text x="${width - right + 80}" y="${ly + 14}" ${FONT} font-size="11" fill="#666">p50 ${seconds(quantile(ms, 0.5))} s, max ${seconds(ms.at(-1))} s</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
