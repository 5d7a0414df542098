#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx tradeforge` works right after `npm ci`, with no build step.

// V8 takes GC flags only at start-up: a command that needs some (bin/node-flags.js: `optimize`, and the commands
// that backtest in this thread) re-runs this script with them, before tsx is loaded.
const { missingNodeFlags } = await import('./node-flags.js');
const missing = missingNodeFlags(process.argv[2], process.execArgv);
if (missing.length > 0) {
  const { spawnSync } = await import('node:child_process');
  const child = spawnSync(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}

// `tradeforge ... | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
