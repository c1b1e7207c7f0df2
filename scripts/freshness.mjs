// `make freshness`: the headline run of the freshness harness (tests/freshness/harness.mjs):
// 3 locations × 2 isolates in real workerd, KV lagging 60 s, the revocation authority, then the
// authority killed mid-run, then KV alone. Prints the tables the README quotes; keeps the figures
// in tests/output/freshness.json and draws the README's chart (docs/bench-freshness.svg, as
// make bench does). Takes about four minutes.
import { mkdirSync, writeFileSync } from "node:fs";
import { runFreshness } from "../tests/freshness/harness.mjs";
import { HEADLINE, FRESHNESS_CHART, freshnessTables, freshnessChartSvg } from "../tests/freshness/report.mjs";

const started = Date.now();
const result = await runFreshness({ ...HEADLINE, log: (line) => console.error(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${line}`) });
mkdirSync(new URL("../tests/output/", import.meta.url), { recursive: true });
writeFileSync(new URL("../tests/output/freshness.json", import.meta.url), JSON.stringify(result, null, 1));
writeFileSync(new URL(`../${FRESHNESS_CHART}`, import.meta.url), freshnessChartSvg(result));
console.log(freshnessTables(result));
console.log(`\nchart: ${FRESHNESS_CHART}`);
const wrong = result.withAuthority.wrong.length + result.killed.wrong.length + (result.kvAlone?.wrong.length ?? 0);
if (wrong > 0) {
  console.error(`${wrong} wrong verdicts; see tests/output/freshness.json`);
  process.exit(1);
}
