#!/usr/bin/env node
// `slayer` command: the bundled CLI (built by `npm run build`, and by `npm ci` through `prepare`).
require('../dist/cli.js').cli();
