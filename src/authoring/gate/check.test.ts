import { describe, expect, it } from 'vitest';
import { strategyTemplate } from '../files/template.js';
import { checkSource } from './check.js';

const HEAD = "import { defineStrategy, Sma } from 'tradeforge/sdk';\n";
const TAIL = '\nexport default defineStrategy({ name: "x", description: "", params: [], create: () => ({}) });\n';

/** Hostile snippets, each placed on line 2 of a file, and the rule that must refuse it. */
const HOSTILE: [string, string][] = [
  ["import fs from 'node:fs';", 'import-not-sdk'],
  ["import { readFileSync } from 'fs';", 'import-not-sdk'],
  ["import * as net from 'node:net';", 'import-not-sdk'],
  ["import { exec } from 'node:child_process';", 'import-not-sdk'],
  ["import { Worker as W } from 'node:worker_threads';", 'import-not-sdk'],
  ["export * from 'node:http';", 'import-not-sdk'],
  ["import cp = require('child_process');", 'require'],
  ["const fs = require('fs');", 'require'],
  ["const m = await import('node:fs');", 'dynamic-import'],
  ["const name = 'f' + 's'; import(name);", 'dynamic-import'],
  ['const u = import.meta.url;', 'import-meta'],
  ["eval('1+1');", 'eval'],
  ["const e = eval; e('x');", 'eval'],
  ["new Function('return process')();", 'function-constructor'],
  ["Function('return this')();", 'function-constructor'],
  ["const F = (() => {}).constructor; F('return process')();", 'constructor-access'],
  ["const g = ({}).constructor.constructor('return globalThis')();", 'constructor-access'],
  ["const F = (Sma as any)['constr' + 'uctor'];", 'string-key'],
  ["const F = (Sma as any)['constructor'];", 'constructor-access'],
  ['const c = String.fromCharCode(99, 111);', 'string-key'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the snippet is source text with a template literal
  ['const F = (Sma as any)[`constr${"uctor"}`];', 'string-key'],
  ['(Object as any).prototype.polluted = 1;', 'prototype-mutation'],
  ['(Array.prototype as any).push = () => 0;', 'prototype-mutation'],
  ['({} as any).__proto__.x = 1;', 'prototype-mutation'],
  ['Object.setPrototypeOf(Sma, null);', 'prototype-mutation'],
  ["Object.defineProperty(Math, 'max', { get: () => 0 });", 'prototype-mutation'],
  ['const d = Object.getOwnPropertyDescriptor(Sma, "name");', 'prototype-mutation'],
  ['process.exit(1);', 'process'],
  ["(process as any).binding('fs');", 'process'],
  ['const p = process; p.env;', 'process'],
  ['globalThis.x = 1;', 'global-access'],
  ['const g = global;', 'global-access'],
  ['const w = window;', 'global-access'],
  ['new Proxy({}, {});', 'proxy-reflect'],
  ['Reflect.get(Sma, "name");', 'proxy-reflect'],
  ['setTimeout(() => {}, 1000);', 'timer'],
  ['setInterval(() => {}, 1);', 'timer'],
  ['setImmediate(() => {});', 'timer'],
  ['queueMicrotask(() => {});', 'timer'],
  ['Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);', 'atomics'],
  ["fetch('http://127.0.0.1:1/');", 'host-io'],
  ["new WebSocket('ws://127.0.0.1:1');", 'host-io'],
  ["new Worker('x.js');", 'host-io'],
  ["Buffer.from('x');", 'host-io'],
  ['WebAssembly.compile(new Uint8Array(8));', 'host-io'],
  ['const m = module;', 'host-io'],
  ['with (Math) { max(1, 2); }', 'with'],
  ['(Sma as any).evil = 1;', 'sdk-mutation'],
  ['delete (Sma as any).name;', 'sdk-mutation'],
  ['function f() { return arguments.callee.caller; }', 'prototype-mutation'],
];

describe('safety gate', () => {
  it('accepts the strategy template', () => {
    const r = checkSource(strategyTemplate('demo'), 'demo.ts');
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it(`refuses ${HOSTILE.length} hostile snippets, each naming its rule and line 2`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
    for (const [snippet, rule] of HOSTILE) {
      const r = checkSource(HEAD + snippet + TAIL, 'hostile.ts');
      expect(r.ok, snippet).toBe(false);
      const hit = r.findings.find((f) => f.rule === rule);
      expect(hit, `${snippet} -> ${JSON.stringify(r.findings)}`).toBeDefined();
      expect(hit?.line, snippet).toBe(2);
    }
  });

  it('allows ordinary code: numeric indexing, local names that shadow nothing, getters in own classes', () => {
    const src = `${HEAD}class Box { private v = [1, 2]; get first(): number { return this.v[0]; } at(i: number) { return this.v[i + 1]; } }
const xs: number[] = []; xs[xs.length - 1] = 2; const o = { process: 1 }; o.process += 1;${TAIL}`;
    expect(checkSource(src, 'ok.ts').findings).toEqual([]);
  });

  it('refuses a file without a default-exported strategy, and one that does not parse, with a line', () => {
    expect(checkSource(HEAD, 'a.ts').findings.map((f) => f.rule)).toEqual(['no-strategy']);
    const bad = checkSource(`${HEAD}const x = ;\n${TAIL}`, 'b.ts');
    expect(bad.findings[0]).toMatchObject({ rule: 'syntax', line: 2 });
  });
});
