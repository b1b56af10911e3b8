#!/usr/bin/env node
// The runbook CLI runs from compiled JavaScript so that its start-up stays out of the timed snapshot path;
// `npm install` compiles it (the package's `prepare` script).
"use strict";
const path = require("path");
const fs = require("fs");
const entry = path.join(__dirname, "..", "dist", "src", "cli", "main.js");
if (!fs.existsSync(entry)) {
  process.stderr.write("runbook: the CLI is not compiled yet; run `npm run build` in " + path.dirname(__dirname) + "\n");
  process.exit(2);
}
require(entry).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
