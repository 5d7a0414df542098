import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type ts from 'typescript';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Uses a bundle built by another thread (a sandbox worker gets the host's), so this one never transpiles. */
export function adoptSdkBundle(source: string): void {
  cached = source;
}

const SDK_ENTRY = join(SRC, 'authoring', 'sdk.ts');
let cached: string | undefined;

function keyOf(file: string): string {
  return relative(SRC, file).split('\\').join('/');
}

// Loaded on first use: a sandbox worker receives the bundle ready-made and never loads the compiler.
function compiler(): typeof ts {
  return createRequire(import.meta.url)('typescript') as typeof ts;
}

function transpile(file: string): string {
  const ts = compiler();
  return ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      isolatedModules: true,
      verbatimModuleSyntax: false,
    },
  }).outputText;
}

/**
 * The SDK and everything it imports (indicators, their parameter checks, the error classes), transpiled into one
 * script whose value is the SDK's exports. It is evaluated *inside* a sandbox context, so every SDK value a
 * strategy touches belongs to the sandbox's own realm: no path from it leads back to the host's Function or
 * globals. Built once per process.
 */
export function sdkBundleSource(): string {
  if (cached !== undefined) return cached;
  const modules = new Map<string, string>();
  const pending = [SDK_ENTRY];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    const key = keyOf(file);
    if (modules.has(key)) continue;
    const code = transpile(file).replace(/require\("([^"]+)"\)/g, (_m, id: string) => {
      if (!id.startsWith('.')) throw new Error(`SDK module ${key} requires "${id}": the SDK must stay pure`);
      const target = resolve(dirname(file), id.replace(/\.js$/, '.ts'));
      pending.push(target);
      return `__require(${JSON.stringify(keyOf(target))})`;
    });
    modules.set(key, code);
  }
  const defs = [...modules.entries()]
    .map(([key, code]) => `${JSON.stringify(key)}: function (exports, __require) {\n${code}\n}`)
    .join(',\n');
  cached = `(function () {
'use strict';
const defs = {\n${defs}\n};
const done = Object.create(null);
function __require(key) {
  if (done[key]) return done[key].exports;
  const module = { exports: {} };
  done[key] = module;
  defs[key](module.exports, __require);
  return module.exports;
}
return __require(${JSON.stringify(keyOf(SDK_ENTRY))});
})()`;
  return cached;
}
