// src/api-types.ts from openapi.json (written by `python -m camgrid.api.openapi_doc web/openapi.json`, committed).
// `node scripts/api-types.mjs` writes it; `--check` (run by `npm test` and `npm run build`) fails when the committed
// file differs from what the committed document gives, so the front end's types cannot drift from the server's.
import { readFileSync, writeFileSync } from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";

const here = new URL("../", import.meta.url);
const target = new URL("src/api-types.ts", here);
const header =
  "// GENERATED from web/openapi.json by web/scripts/api-types.mjs: do not edit (npm run gen:api).\n" +
  "// The server's response models (camgrid.api.schemas, camgrid.health.schemas) are the source of truth.\n\n";

const doc = JSON.parse(readFileSync(new URL("openapi.json", here), "utf8"));
const text = header + astToString(await openapiTS(doc, { alphabetize: true }));

if (process.argv.includes("--check")) {
  let old = "";
  try {
    old = readFileSync(target, "utf8");
  } catch {
    old = "";
  }
  if (old !== text) {
    console.error("web/src/api-types.ts is out of date with web/openapi.json: run `npm run gen:api` and commit it.");
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
