// make bench's SVG chart, drawn by bench/chart.mjs: the figures it prints are the samples' own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { latencyChart, quantile } from "../../bench/chart.mjs";

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
