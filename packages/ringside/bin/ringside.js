#!/usr/bin/env node
// The `ringside` command: query and stats of a Ringside SQLite store (`ringside --help`).
import '../dist/cli/main.js'
