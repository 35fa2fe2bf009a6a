#!/usr/bin/env node
import '../dist/runtime/cli/main.js';
