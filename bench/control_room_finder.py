"""Finding cameras: the camera search at 62,000 cameras (web/src/camera-index.ts), timed in Node on this machine.

``finder_search(n=62000, queries=200)`` transpiles camera-index.ts with the web's own TypeScript, builds the index of
n synthetic cameras (ids, names, 20 districts, a site per 4 cameras, 50 streets, with site and district names) and
runs ``queries`` searches of the kinds an operator types (an id prefix, a site or street or district word, two
words, one letter). Returns ``finder_index_ms`` (building the index once per camera list), ``finder_search_p50_ms``
and ``finder_search_p95_ms`` (one keystroke's search, answers capped at 50). Needs web/node_modules (``npm ci``).

Standalone: ``python bench/control_room_finder.py`` prints the keys.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "web"

DRIVER = r"""
import { CameraIndex } from "./camera-index.mjs";
const n = Number(process.argv[2]), queries = Number(process.argv[3]);
const cols = { id: [], name: [], district: [], site: [], street: [], streets: [""] };
cols.site_names = {};
cols.district_names = {};
for (let s = 0; s < 50; s++) cols.streets.push(`Marg ${s} Road`);
for (let d = 0; d < 20; d++) cols.district_names[`D-${d}`] = `Ward ${d} Tol`;
for (let i = 0; i < n; i++) {
  const site = `S-${Math.floor(i / 4)}`;
  cols.id.push(`cam-${i}`); cols.name.push(`camera ${i} gate ${i % 7}`);
  cols.district.push(`D-${i % 20}`); cols.site.push(site); cols.street.push(i % 51);
  if (i % 4 === 0) cols.site_names[site] = `Chowk ${i / 4}`;
}
let t0 = performance.now();
const ix = new CameraIndex(cols);
const indexMs = performance.now() - t0;
const kinds = [
  (k) => `cam-${k}`, (k) => `chowk ${k}`, (k) => `marg ${k % 50}`, (k) => `ward ${k % 20} gate`, () => "a",
];
const times = [];
for (let q = 0; q < queries; q++) {
  const text = kinds[q % kinds.length]((q * 7919) % n);
  t0 = performance.now();
  ix.search(text, 50);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const pct = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
const out = { finder_index_ms: indexMs, finder_search_p50_ms: pct(0.5), finder_search_p95_ms: pct(0.95) };
console.log(JSON.stringify(out));
"""

TRANSPILE = r"""
const ts = require(process.argv[1]);
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 };
fs.writeFileSync(process.argv[3], ts.transpileModule(src, { compilerOptions: options }).outputText);
"""


def finder_search(n: int = 62_000, queries: int = 200) -> dict[str, float]:
    """See the module's docstring."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ts = WEB / "node_modules" / "typescript"
        subprocess.run(
            ["node", "-e", TRANSPILE, str(ts), str(WEB / "src" / "camera-index.ts"), str(d / "camera-index.mjs")],
            check=True,
            timeout=120,
        )
        (d / "driver.mjs").write_text(DRIVER)
        done = subprocess.run(
            ["node", str(d / "driver.mjs"), str(n), str(queries)],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
    result: dict[str, float] = {k: round(float(v), 2) for k, v in json.loads(done.stdout).items()}
    return result


if __name__ == "__main__":
    print(" ".join(f"{k}={v}" for k, v in finder_search().items()))
