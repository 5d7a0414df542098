#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so `npx tradeforge` works right after `npm ci`, with no build step.

// V8 takes GC flags only at start-up: a command that needs some (bin/node-flags.js: `optimize`, and the commands
// that backtest in this thread) re-runs this script with them, before tsx is loaded.
const { missingNodeFlags } = await import('./node-flags.js');
const missing = missingNodeFlags(process.argv[2], process.execArgv);
if (missing.length > 0) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...missing, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  // This process stands for the re-run one. Ctrl-C already reaches the child (the terminal signals the whole
  // foreground group; a second SIGINT would cut short a sweep's graceful cancel), so it is ignored here; a signal sent
  // to this process alone (`kill`, `timeout`, a supervisor) is passed on, so the child never outlives it.
  process.on('SIGINT', () => {});
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`tradeforge: cannot start node again with ${missing.join(' ')}: ${err.message}\n`);
    process.exit(1);
  });
  // Exits as the child did: its code, or the same signal (the shell then reports 130 for Ctrl-C, 143 for SIGTERM).
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
  await new Promise(() => {});
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
