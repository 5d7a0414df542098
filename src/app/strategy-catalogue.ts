import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { type StrategySourceKind, strategySourceKind } from '../authoring/resolve.js';
import type { StrategyDefinition } from '../strategy/types.js';
import {
  checkStrategyId,
  loadStrategyVersion,
  parseVersionRef,
  prepareVersion,
  type StoredVersion,
  strategyIdOf,
} from '../authoring/versions.js';
import { ValidationError } from '../core/errors.js';
import type { Store } from '../store/store.js';

/** What `strategy import` stores: a file, its kind (from the flag or the extension), an id and a note. */
export interface ImportRequest {
  readonly file: string;
  readonly kind?: StrategySourceKind;
  readonly id?: string;
  readonly note?: string;
}

/** The stored version an import produced (or found: importing an unchanged source adds no version). */
export interface ImportResult {
  readonly id: string;
  readonly version: number;
  readonly hash: string;
  readonly kind: StrategySourceKind;
  readonly name: string;
  readonly added: boolean;
}

/**
 * Imports a strategy file as a new version of a stored strategy (DEPLOY-1): gate and compiler first (a refusal
 * stores nothing), then the strategy row (state `draft` when new) and an immutable, numbered version with the
 * source, its kind, compiled form, gate verdict and SHA-256. The same source as the latest version adds nothing.
 */
export async function importStrategyVersion(store: Store, req: ImportRequest, now = Date.now()): Promise<ImportResult> {
  if (!existsSync(req.file) || !statSync(req.file).isFile()) {
    throw new ValidationError(`strategy file ${req.file} not found`, 'file');
  }
  const kind = req.kind ?? strategySourceKind(req.file);
  const source = readFileSync(req.file, 'utf8');
  return storeStrategyVersion(
    store,
    {
      source,
      kind,
      label: basename(req.file),
      ...(req.id !== undefined ? { id: req.id } : {}),
      ...(req.note !== undefined ? { note: req.note } : {}),
    },
    now,
  );
}

/** A source to store as a version: its text and kind, the name errors give it, an id and a note. */
export interface StoreVersionRequest {
  readonly source: string;
  readonly kind: StrategySourceKind;
  /** The name messages give the source (a file name, or e.g. `workspace.rules`). */
  readonly label: string;
  readonly id?: string;
  readonly note?: string;
}

/** Stores a source as a new version (what `importStrategyVersion` does for a file; the API's editor uses it). */
export async function storeStrategyVersion(
  store: Store,
  req: StoreVersionRequest,
  now = Date.now(),
): Promise<ImportResult> {
  const { source, kind } = req;
  const prepared = prepareVersion(source, kind, req.label);
  const id = req.id !== undefined ? checkStrategyId(req.id) : strategyIdOf(prepared.def.name);
  const existing = await store.strategies.get(id);
  if (existing !== undefined && existing.kind !== kind) {
    throw new ValidationError(
      `strategy ${id} holds ${existing.kind} versions; a ${kind} file needs another id (--id)`,
      'id',
    );
  }
  const versions = await store.strategies.versions(id);
  const latest = versions.at(-1);
  if (latest !== undefined && latest.source_hash === prepared.hash) {
    return { id, version: latest.version, hash: prepared.hash, kind, name: prepared.def.name, added: false };
  }
  await store.strategies.upsert({
    id,
    name: prepared.def.name,
    kind,
    description: prepared.def.description || null,
    created_at: existing?.created_at ?? now,
    updated_at: now,
  });
  const defaults = Object.fromEntries(prepared.def.params.map((p) => [p.name, p.default]));
  const next = (latest?.version ?? 0) + 1;
  const version = await store.strategies.addVersion({
    id: `${id}@v${next}`,
    strategy_id: id,
    source,
    params: defaults,
    source_hash: prepared.hash,
    note: req.note ?? null,
    source_kind: kind,
    compiled: prepared.compiled,
    gate: prepared.gate,
    created_at: now,
  });
  return { id, version, hash: prepared.hash, kind, name: prepared.def.name, added: true };
}

/**
 * A stored strategy version named `ID@vN`, read from the configured store and compiled (hash-checked); undefined
 * when `ref` is not a version reference. Commands that queue jobs name the version and its hash, and each worker
 * reads and checks it again.
 */
export async function configuredStrategyVersion(
  ref: string,
): Promise<{ def: StrategyDefinition; version: StoredVersion } | undefined> {
  if (parseVersionRef(ref) === undefined) return undefined;
  const { openConfiguredStore } = await import('./open-store.js');
  const { store } = await openConfiguredStore();
  try {
    return await loadStrategyVersion(store.strategies, ref);
  } finally {
    await store.close();
  }
}
