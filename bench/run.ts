/**
 * Benchmark runner (`npm run bench [filter]`): prints the machine, then imports every bench/*.bench.ts in name
 * order (only those whose name contains the filter) and awaits its default export. A failing benchmark prints its
 * error and the runner exits non-zero after the rest have run.
 */
import { readdirSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const cpu = cpus();
process.stdout.write(
  [
    'machine',
    `  cpu      ${cpu[0]?.model ?? 'unknown'}`,
    `  cores    ${cpu.length}`,
    `  memory   ${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `  node     ${process.version}`,
    `  os       ${platform()} ${release()}`,
    // Timings are wall-clock; a busy machine (load above the core count) slows every figure.
    `  load     ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (1/5/15 min)`,
    '',
  ].join('\n'),
);

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) process.stdout.write(`no benchmarks match ${filters.join(' ')}\n`);
const failed: string[] = [];
for (const f of files) {
  process.stdout.write(`\n== ${f.replace(/\.bench\.ts$/, '')} ==\n`);
  const started = performance.now();
  try {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: () => Promise<void> | void };
    if (typeof mod.default !== 'function') throw new Error(`${f} has no default export function`);
    await mod.default();
    process.stdout.write(`(${f} took ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  } catch (err) {
    failed.push(f);
    process.stdout.write(`FAILED ${f}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
}
if (failed.length > 0) {
  process.stdout.write(`\n${failed.length} benchmark(s) failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
