// The freshness harness's figures as Markdown tables and as the chart's series (make freshness,
// make bench).
import { quantile } from "./harness.mjs";
import { freshnessChart } from "../../bench/chart.mjs";

/** Where `make freshness` and `make bench` write the chart the README embeds. */
export const FRESHNESS_CHART = "docs/bench-freshness.svg";

/** The headline run: 3 locations × 2 isolates, KV lagging 60 s, the default settings. */
export const HEADLINE = {
  locations: 3,
  isolates: 2,
  lagMs: 60_000,
  probeEveryMs: 25,
  signOuts: 30,
  signOutEveryMs: 1000,
  afterKill: 5,
  kvAlone: 10,
  races: 5,
  loadLevels: [
    { probeEveryMs: 200, seconds: 10 },
    { probeEveryMs: 0, concurrency: 4, seconds: 10 },
  ],
};

const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

/** Per sign-out and location, the time until the location's last isolate refused. */
export function perLocation(latencies) {
  const by = new Map();
  for (const l of latencies) {
    const key = `${l.user}|${l.isolate.split("/")[0]}`;
    by.set(key, Math.max(by.get(key) ?? 0, l.ms));
  }
  return [...by.entries()].map(([key, ms]) => ({ user: key.split("|")[0], location: key.split("|")[1], ms }));
}

function row(name, latencies, receiptsMs, wrong) {
  const ms = latencies.map((l) => l.ms);
  const signOuts = new Set(latencies.map((l) => l.user)).size;
  return `| ${name} | ${signOuts} | ${ms.length} | ${seconds(quantile(ms, 0.5))} | ${seconds(quantile(ms, 0.95))} | ${seconds(Math.max(...ms))} | ${receiptsMs} | ${wrong.length} |`;
}

/** Markdown tables of a run of runFreshness. */
export function freshnessTables(r) {
  const o = r.options;
  const lines = [];
  lines.push(`${o.locations} locations × ${o.isolates} isolates, KV lagging ${o.lagMs / 1000} s behind the writer, gated requests ${o.probeEveryMs} ms apart per isolate`);
  lines.push("");
  lines.push("| run | sign-outs | isolate refusals | p50 | p95 | max | receipt (answer → enforcedBy) | wrong verdicts |");
  lines.push("|---|---:|---:|---:|---:|---:|---|---:|");
  const receipt = (list) => {
    const spans = list.map((l) => l.enforcedBy - l.answeredAt).filter(Number.isFinite);
    return spans.length ? `${seconds(Math.min(...spans))} – ${seconds(Math.max(...spans))}` : "";
  };
  lines.push(row("with the authority", r.withAuthority.latencies, receipt(r.withAuthority.latencies), r.withAuthority.wrong));
  lines.push(row("authority killed mid-run (KV fallback)", r.killed.latencies, receipt(r.killed.latencies), r.killed.wrong));
  if (r.kvAlone) lines.push(row("KV alone (no authority bound)", r.kvAlone.latencies, receipt(r.kvAlone.latencies), r.kvAlone.wrong));
  lines.push("");
  lines.push("| authority reads | gated requests / location / s | authority reads / location / s |");
  lines.push("|---|---:|---:|");
  for (const level of r.levels ?? []) {
    const streams = level.concurrency > 1 ? `${level.concurrency} streams per isolate, ` : "";
    lines.push(`| steady load, ${streams}${level.probeEveryMs} ms apart, ${level.seconds.toFixed(0)} s | ${level.gatedPerLocationPerSecond.toFixed(1)} | ${level.authorityReadsPerLocationPerSecond.toFixed(2)} |`);
  }
  const locs = Object.keys(r.rate).filter((k) => k !== "seconds");
  const mean = (f) => locs.reduce((s, l) => s + f(r.rate[l]), 0) / locs.length;
  lines.push(`| during the sign-outs (${r.rate.seconds.toFixed(0)} s) | ${mean((x) => x.gatedPerSecond).toFixed(1)} | ${mean((x) => x.feedPerSecond).toFixed(2)} (+ ${mean((x) => x.raisesPerSecond).toFixed(2)} writes) |`);
  lines.push("");
  const health = r.killed.health;
  lines.push(`after the kill: /healthz in ${health.filter((h) => h.word === "degraded" && h.fallback === "kv").length} of ${health.length} isolates says "degraded", feed "stale", fallback "kv", enforced_within_s ${[...new Set(health.map((h) => h.enforced_within_s))].join("/")}; ${r.killed.failedCalls} failed calls to the authority; ${r.killed.verdicts} verdicts after the kill, ${r.killed.wrong.length} wrong`);
  const lowered = (writes) => writes.some((w, i) => i > 0 && w < writes[i - 1]);
  lines.push(`same-instant race, ${r.races.length} pairs from two locations: with the authority ${r.races.map((x) => x.writes.length).join("/")} KV writes, ${r.races.filter((x) => lowered(x.writes)).length} lowered` +
    (r.kvAlone ? `; with KV alone ${r.kvAlone.races.map((x) => x.writes.length).join("/")} writes, ${r.kvAlone.races.filter((x) => lowered(x.writes)).length} lowered` : ""));
  return lines.join("\n");
}

/** The chart's series: per sign-out and location, when (into the run) and how long. */
export function freshnessSeries(r) {
  const points = (latencies, t0) => perLocation(latencies).map((p) => {
    const l = latencies.find((x) => x.user === p.user);
    return { t: (l.answeredAt - t0) / 1000, ms: Math.max(10, p.ms) };
  });
  const start = (list) => Math.min(...list.map((l) => l.answeredAt));
  const authorityStart = start(r.withAuthority.latencies);
  return [
    { label: "with the authority", color: "#1f6feb", points: points(r.withAuthority.latencies, authorityStart) },
    { label: "authority killed (KV fallback)", color: "#d4731a", points: points(r.killed.latencies, authorityStart) },
    ...(r.kvAlone ? [{ label: "KV alone", color: "#777", points: points(r.kvAlone.latencies, start(r.kvAlone.latencies)) }] : []),
  ];
}

/** The chart of a headline run (SVG). */
export function freshnessChartSvg(r) {
  const o = r.options;
  return freshnessChart(freshnessSeries(r), {
    title: "After a sign-out's answer: how long until each location refuses the token",
    subtitle: [
      `${o.locations} locations × ${o.isolates} isolates in real workerd, KV lagging ${o.lagMs / 1000} s behind the writer (a fake), FRESHNESS_S 2.`,
      "The authority is killed after its sign-outs; then a separate run with KV alone. Log scale.",
    ],
    marks: [
      { ms: 3000, label: "receipt: FRESHNESS_S + 1 s" },
      { ms: 5000, label: "goal: 5 s" },
      { ms: o.lagMs, label: `KV's lag here: ${o.lagMs / 1000} s` },
      { ms: 95_000, label: "KV window (receipt): 95 s" },
    ],
  });
}
