// make bench's SVG chart, drawn by bench/chart.mjs: the figures it prints are the samples' own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { latencyChart, freshnessChart, quantile } from "../../bench/chart.mjs";

const range = (n, f = (i) => i) => Array.from({ length: n }, (_, i) => f(i + 1));

test("quantiles are nearest-rank over the sorted samples", () => {
  const sorted = range(100);
  assert.equal(quantile(sorted, 0.5), 50);
  assert.equal(quantile(sorted, 0.99), 99);
  assert.equal(quantile(sorted, 0.05), 5);
  assert.equal(quantile([7], 0.99), 7);
});

test("each series gets a row with its p50 and p99, and samples past the axis are counted", () => {
  const shuffled = range(100).reverse();
  const svg = latencyChart([
    { label: "ours <fast>", samples: shuffled, color: "#1f6feb" },
    { label: "reference", samples: [...range(99, () => 2), 5000], color: "#d4731a" },
  ], { title: "t", subtitle: ["a", "b"] });
  assert.match(svg, /^<svg [^>]*viewBox="0 0 860 \d+"/);
  assert.equal(svg.match(/<svg/g).length, 1);
  assert.match(svg, /<\/svg>\n$/);
  assert.match(svg, />ours &lt;fast&gt;</, "labels are escaped");
  assert.match(svg, />p50 50\.00 ms</);
  assert.match(svg, />p99 99\.00 ms</);
  assert.match(svg, />p50 2\.00 ms</);
  assert.match(svg, />p99 2\.00 ms \(\+1\)</, "the 5000 ms sample is past the axis");
  // The axis ends past the largest p95 (95 ms): 0 to 140 in steps of 20.
  assert.match(svg, />140</);
  assert.doesNotMatch(svg, />160</);
});

test("the freshness chart draws one point per sign-out and location on a log axis, with its marks and each series' p50 and max", () => {
  const svg = freshnessChart([
    { label: "with the authority", color: "#1f6feb", points: range(30, (i) => ({ t: i, ms: 100 * i })) },
    { label: "KV <alone>", color: "#777", points: [{ t: 1, ms: 61_000 }, { t: 2, ms: 64_500 }] },
  ], { title: "t", subtitle: ["a"], marks: [{ ms: 5000, label: "goal: 5 s" }, { ms: 95_000, label: "window" }] });
  assert.equal(svg.match(/<circle /g).length, 30 + 2 + 2, "a point per sample, a dot per legend entry");
  assert.match(svg, />KV &lt;alone&gt;</);
  assert.match(svg, />p50 1\.50 s, max 3\.00 s</, "the authority's series: 100 ms … 3000 ms");
  assert.match(svg, />p50 61\.00 s, max 64\.50 s</);
  assert.match(svg, />goal: 5 s</);
  // Decades from 10 ms up to the first power of ten above every value (95 s → 100 s).
  for (const label of ["10 ms", "100 ms", "1 s", "10 s", "100 s"]) assert.match(svg, new RegExp(`>${label}<`));
  assert.doesNotMatch(svg, />1000 s</);
  // Log scale: 1 s sits halfway between 100 ms and 10 s.
  const yOf = (label) => Number(svg.match(new RegExp(`y="([\\d.]+)"[^>]*>${label}<`))[1]);
  assert.ok(Math.abs(yOf("1 s") - (yOf("100 ms") + yOf("10 s")) / 2) < 0.2);
});
