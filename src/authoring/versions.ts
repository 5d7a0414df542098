import { createHash } from 'node:crypto';
import ts from 'typescript';
import { ValidationError } from '../core/errors.js';
import type { StrategyDefinition } from '../strategy/types.js';
import type { SandboxOptions } from './files/code-loader.js';
import { checkSource, type GateFinding } from './gate/check.js';
import {
  compileStrategySource,
  isCodeKind,
  isStrategyFile,
  readStrategyFile,
  type StrategySource,
  type StrategySourceKind,
} from './resolve.js';
import { parseRules } from './rules/parse.js';

/** A stored strategy version named as `ID@vN` (a deployment's `strategy:`, `--strategy` on the command line). */
export interface StrategyVersionRef {
  readonly id: string;
  readonly version: number;
}

const REF = /^([A-Za-z][A-Za-z0-9_-]{0,63})@v([1-9][0-9]{0,8})$/;
const ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Parses `ID@vN`; anything else (a built-in name, a path) gives undefined. */
export function parseVersionRef(ref: string): StrategyVersionRef | undefined {
  const m = REF.exec(ref);
  return m ? { id: m[1], version: Number(m[2]) } : undefined;
}

/** The hash a version is stored and checked under: SHA-256 of its source text, hex. */
export function sourceHash(source: string): string {
  return createHash('sha256').update(source, 'utf8').digest('hex');
}

/** The stored fields of a version that running it needs (the store's strategy_versions row has them). */
export interface StoredVersion {
  readonly strategy_id: string;
  readonly version: number;
  readonly source: string;
  readonly source_hash: string;
  readonly source_kind: string | null;
}

/** Where stored versions come from (the store's StrategiesRepository): a port, so authoring does no I/O itself. */
export interface StrategyVersionSource {
  version(strategyId: string, version: number): Promise<StoredVersion | undefined>;
}

const KINDS: readonly StrategySourceKind[] = ['ts', 'js', 'rules', 'pine'];

/** The name a stored version goes by in errors and reports: `ID@vN.ext`. */
export function versionFileName(v: Pick<StoredVersion, 'strategy_id' | 'version' | 'source_kind'>): string {
  return `${v.strategy_id}@v${v.version}.${v.source_kind ?? 'ts'}`;
}

/**
 * Compiles a stored version after checking its hash: a source whose SHA-256 differs from the stored hash (edited
 * in the database, corrupted on the way to a worker) is refused. Code runs in the sandbox `sandbox` asks for.
 */
export function compileStoredVersion(v: StoredVersion, sandbox: SandboxOptions = {}): StrategyDefinition {
  const s = checkedVersionSource(v);
  return compileStrategySource(s.source, s.kind, s.file, sandbox);
}

/** A stored version's source, kind and name (`ID@vN.ext`), after checking its hash and kind. */
export function checkedVersionSource(v: StoredVersion): StrategySource {
  const name = `${v.strategy_id}@v${v.version}`;
  if (sourceHash(v.source) !== v.source_hash) {
    throw new ValidationError(
      `strategy ${name}: its source does not match its stored hash; refusing to run it`,
      'strategy',
    );
  }
  const kind = v.source_kind as StrategySourceKind | null;
  if (kind === null || !KINDS.includes(kind)) {
    throw new ValidationError(`strategy ${name}: unknown source kind "${String(v.source_kind)}"`, 'strategy');
  }
  return { source: v.source, kind, file: versionFileName(v) };
}

/** Looks a version reference up in `source` (a ValidationError when it is not there). */
export async function findStrategyVersion(versions: StrategyVersionSource, ref: string): Promise<StoredVersion> {
  const r = parseVersionRef(ref);
  if (r === undefined)
    throw new ValidationError(`"${ref}" is not a strategy version (use ID@vN, e.g. mine@v2)`, 'strategy');
  const v = await versions.version(r.id, r.version);
  if (v === undefined) {
    throw new ValidationError(
      `no stored strategy version ${ref} (see tradeforge strategy versions ${r.id})`,
      'strategy',
    );
  }
  return v;
}

/**
 * The source a strategy reference names: a stored version `ID@vN` (hash-checked) or a strategy file (relative to
 * `baseDir`); undefined for a built-in name.
 */
export async function strategyRefSource(
  ref: string,
  opts: { versions?: StrategyVersionSource; baseDir?: string } = {},
): Promise<StrategySource | undefined> {
  if (parseVersionRef(ref) !== undefined) {
    if (opts.versions === undefined) {
      throw new ValidationError(`${ref} names a stored strategy version, but no store is open here`, 'strategy');
    }
    return checkedVersionSource(await findStrategyVersion(opts.versions, ref));
  }
  return isStrategyFile(ref) ? readStrategyFile(ref, opts.baseDir) : undefined;
}

/** Looks a version reference up in `source` and compiles it (hash-checked). */
export async function loadStrategyVersion(
  versions: StrategyVersionSource,
  ref: string,
  sandbox: SandboxOptions = {},
): Promise<{ def: StrategyDefinition; version: StoredVersion }> {
  const v = await findStrategyVersion(versions, ref);
  return { def: compileStoredVersion(v, sandbox), version: v };
}

/** The safety gate's verdict as stored with a version. */
export interface GateVerdict {
  readonly ok: boolean;
  readonly findings: readonly GateFinding[];
  /** What was checked: the code itself (ts/js) or the compiler's own output (rules, pine). */
  readonly checked: 'source' | 'compiler-output';
}

/** Everything a new version stores, worked out from its source. */
export interface PreparedVersion {
  readonly kind: StrategySourceKind;
  readonly source: string;
  readonly hash: string;
  readonly compiled: string | null;
  readonly gate: GateVerdict;
  readonly def: StrategyDefinition;
}

function transpiled(source: string, file: string): string {
  return ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: false,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, isolatedModules: true },
  }).outputText;
}

/**
 * Checks and compiles a source for storing: the gate (code files), then the compiler, which proves the source
 * defines a usable strategy. A refusal throws a ValidationError listing the findings; nothing is stored then.
 * The compiled form is the transpiled code (ts/js) or the parsed rules program (JSON); Pine's is not kept yet.
 */
export function prepareVersion(source: string, kind: StrategySourceKind, file: string): PreparedVersion {
  let gate: GateVerdict = { ok: true, findings: [], checked: 'compiler-output' };
  if (isCodeKind(kind)) {
    const g = checkSource(source, file);
    gate = { ok: g.ok, findings: g.findings, checked: 'source' };
  }
  // compileStrategySource runs the gate again for code and throws its findings: one message for every refusal.
  const def = compileStrategySource(source, kind, file);
  const compiled = isCodeKind(kind)
    ? transpiled(source, file)
    : kind === 'rules'
      ? JSON.stringify(parseRules(source, file))
      : null;
  return { kind, source, hash: sourceHash(source), compiled, gate, def };
}

/** Checks a strategy id given by the user (letters, digits, `-` and `_`, starting with a letter). */
export function checkStrategyId(id: string): string {
  if (!ID.test(id)) {
    throw new ValidationError(
      `strategy id "${id}": use letters, digits, "-" and "_", starting with a letter (at most 64)`,
      'id',
    );
  }
  return id;
}

/** A strategy id derived from a strategy's name: lower case, other characters as dashes. */
export function strategyIdOf(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64);
  return checkStrategyId(id === '' ? 'strategy' : id);
}

/** A line diff of two sources in unified style (`-` removed, `+` added, two lines of context). */
export function diffSources(a: string, b: string, labelA: string, labelB: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  // Longest common subsequence table, from the end (sources are small: a strategy file is a few hundred lines).
  const lcs: Uint32Array[] = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: { op: ' ' | '-' | '+'; line: string; a: number; b: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) ops.push({ op: ' ', line: x[i++], a: i, b: ++j });
    else if (j < y.length && (i === x.length || lcs[i][j + 1] >= lcs[i + 1][j]))
      ops.push({ op: '+', line: y[j++], a: i, b: j });
    else ops.push({ op: '-', line: x[i++], a: i, b: j });
  }
  const out = [`--- ${labelA}`, `+++ ${labelB}`];
  const keep = ops.map((o, k) => o.op !== ' ' || ops.slice(Math.max(0, k - 2), k + 3).some((n) => n.op !== ' '));
  let inHunk = false;
  for (const [k, o] of ops.entries()) {
    if (!keep[k]) {
      inHunk = false;
      continue;
    }
    if (!inHunk) out.push(`@@ line ${o.op === '+' ? o.b : o.a} @@`);
    inHunk = true;
    out.push(`${o.op}${o.line}`);
  }
  return out.length === 2 ? `${out.join('\n')}\n(no differences)` : out.join('\n');
}
