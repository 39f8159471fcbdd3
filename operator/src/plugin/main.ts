#!/usr/bin/env node
import { COMMANDS } from './commands.ts';
import { dispatch } from './dispatch.ts';
import { streamOutput } from './shared/output.ts';

// `kubectl portcullis ...`: kubectl runs the executable `kubectl-portcullis` found on PATH (package.json
// "bin", built to dist/ because Node does not strip types under node_modules); in a checkout,
// `npm run plugin -- ...` runs this file directly.

process.exitCode = await dispatch(
  COMMANDS,
  process.argv.slice(2),
  streamOutput(process.stdout, process.stderr),
);
