#!/usr/bin/env node
// The installed command: runs the built CLI (a committed file, so installing the workspace can
// link the command before the first build).
import '../dist/cli.js'
