import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency rules of docs/architecture.md, enforced on every source file's imports.
const SRC = resolve(import.meta.dirname, '../src');

/** Which top-level folders of src/ each folder may import (itself always allowed). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  indicators: ['core'],
  strategy: ['core', 'indicators'],
  // The engine keeps ATR per symbol for the risk view, hence indicators (already reachable through strategy).
  engine: ['core', 'indicators', 'strategy', 'risk'],
  risk: ['core', 'indicators'],
  backtest: ['core', 'indicators', 'strategy', 'engine', 'risk', 'data'],
  authoring: ['core', 'indicators', 'strategy', 'backtest'],
  data: ['core'],
  // The paper venue reuses the backtester's fill models: the same code, not a copy.
  venues: ['core', 'backtest', 'indicators', 'strategy', 'engine', 'risk'],
  store: ['core'],
  security: ['core', 'store'],
  ops: ['core'],
  // Scale-out: queue workers run the backtester's trials, stored strategy versions (authoring, registered in the
  // strategy registry of the trial thread) and write results to the store.
  scale: ['core', 'backtest', 'store', 'authoring', 'strategy'],
  app: ['*'],
  server: [
    'core',
    'indicators',
    'strategy',
    'engine',
    'risk',
    'backtest',
    'authoring',
    'data',
    'venues',
    'store',
    'security',
    'ops',
    'app',
  ],
  cli: ['*'],
};

/** The pure core: computes, never touches the outside world. */
const PURE = new Set(['core', 'indicators', 'strategy', 'engine', 'risk', 'backtest']);
const IO_MODULES =
  /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|child_process|cluster|worker_threads|dns|tls|readline)$/;
/** Files of the pure folders that are allowed I/O because they are the edge of that folder (report writers, worker pool). */
const PURE_IO_EXCEPTIONS = [/^backtest\/report\/write\.ts$/, /^backtest\/optimizer\//, /\/testdata\//];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re =
    /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

const files = sourceFiles(SRC).map((f) => ({ file: f, rel: relative(SRC, f).split(sep).join('/') }));

describe('architecture', () => {
  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  it('every import respects the layer rules', () => {
    const violations: string[] = [];
    for (const { file, rel } of files) {
      const layer = rel.split('/')[0];
      const allowed = ALLOWED[layer];
      if (!allowed) {
        violations.push(`${rel}: folder "${layer}" is not in the architecture map`);
        continue;
      }
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = relative(SRC, resolve(file, '..', spec))
          .split(sep)
          .join('/');
        if (target.startsWith('..')) continue;
        const targetLayer = target.split('/')[0];
        if (targetLayer === layer || allowed.includes('*') || allowed.includes(targetLayer)) continue;
        violations.push(`${rel} imports ${target} (${layer} may not import ${targetLayer})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('the core does no I/O and reads no environment', () => {
    const violations: string[] = [];
    for (const { file, rel } of files) {
      if (!PURE.has(rel.split('/')[0]) || PURE_IO_EXCEPTIONS.some((re) => re.test(rel))) continue;
      const text = readFileSync(file, 'utf8');
      for (const spec of importsOf(text)) if (IO_MODULES.test(spec)) violations.push(`${rel} imports ${spec}`);
      if (/process\.env/.test(text)) violations.push(`${rel} reads process.env`);
    }
    expect(violations).toEqual([]);
  });

  it('only the app wires the OpenTelemetry SDK; everything else uses @opentelemetry/api alone', () => {
    // Tracing off must cost nothing: the SDK (provider, exporters, context manager) is loaded by app/telemetry.ts.
    const violations: string[] = [];
    for (const { file, rel } of files) {
      if (rel.startsWith('app/')) continue;
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('@opentelemetry/') && spec !== '@opentelemetry/api')
          violations.push(`${rel} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('only the execution engine and venue adapters call a venue order method', () => {
    // One order path: intent -> RiskEngine.check -> ExecutionEngine -> Venue. Anything else placing or
    // cancelling directly on a venue would bypass the risk engine.
    const violations: string[] = [];
    const allowed = [/^engine\//, /^venues\//];
    for (const { file, rel } of files) {
      if (allowed.some((re) => re.test(rel))) continue;
      const text = readFileSync(file, 'utf8');
      if (/\b(venue|Venue|adapter)\w*\??\.(placeOrder|cancelOrder|modifyOrder)\s*\(/.test(text)) {
        violations.push(rel);
      }
    }
    expect(violations).toEqual([]);
  });
});
