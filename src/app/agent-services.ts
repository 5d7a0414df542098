/**
 * Composition of the LLM agents (docs/agents.md): providers from the config with keys from the vault, runs and
 * strategy versions in the store, steps on the bus and masked by the vault's redactor, the bundled sample data for
 * smoke backtests and the docs as the models' reference. The CLI's `strategy generate` and the MCP server use it.
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GenerationDeps, SavedVersion, StrategyVersionSink } from '../authoring/agents/generate.js';
import type { FormatReference } from '../authoring/agents/prompts.js';
import { prepareVersion } from '../authoring/versions.js';
import type { BacktestData } from '../backtest/runner.js';
import type { Config } from '../core/config.js';
import type { EventBus } from '../core/events.js';
import { loadBars } from '../data/load.js';
import { defaultRedactor } from '../security/redact.js';
import type { Vault } from '../security/vault.js';
import type { Store } from '../store/store.js';
import { SAMPLE_DATA_FILE } from './home.js';

/** The docs folder of this installation (the models' reference and the MCP resources). */
export const DOCS_DIR = resolve(import.meta.dirname, '../../docs');

/** The docs the models read: the rule language and the Strategy API (when the files are there). */
export function agentReference(docsDir: string = DOCS_DIR): FormatReference {
  const read = (name: string) => {
    const f = resolve(docsDir, name);
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  };
  const rules = read('rules.md');
  const ts = read('strategy-api.md');
  return { ...(rules ? { rules } : {}), ...(ts ? { ts } : {}) };
}

/** The bundled sample as smoke-backtest data. */
export function smokeData(file: string = SAMPLE_DATA_FILE): BacktestData {
  const b = loadBars(file, { timeframe: '1d' });
  return { symbol: b.symbol, columns: b.columns, timeframe: b.timeframe ?? '1d' };
}

/** A strategy id from a name: lower case, letters, digits and dashes. */
export function strategyIdOf(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64) || 'generated'
  );
}

/** Generated strategies become versions of a strategy named after them (created on first use). */
export function storeVersionSink(store: Store, now: () => number = Date.now): StrategyVersionSink {
  return {
    async save(v): Promise<SavedVersion> {
      const strategyId = strategyIdOf(v.name);
      const t = now();
      const existing = await store.strategies.get(strategyId);
      await store.strategies.upsert({
        id: strategyId,
        name: v.name,
        kind: v.kind,
        description: v.description || null,
        created_at: existing?.created_at ?? t,
        updated_at: t,
      });
      // The same record as `strategy import`: kind, compiled form and the gate's verdict, so the version can be
      // gated, deployed and run as `ID@vN` (its lifecycle starts at draft, docs/promotion.md).
      const prepared = prepareVersion(v.source, v.kind, `${strategyId}.${v.kind}`);
      const latest = (await store.strategies.versions(strategyId)).at(-1);
      const versionId = `${strategyId}@v${(latest?.version ?? 0) + 1}`;
      const version = await store.strategies.addVersion({
        id: versionId,
        strategy_id: strategyId,
        source: v.source,
        params: v.params,
        source_hash: prepared.hash,
        note: v.note,
        source_kind: v.kind,
        compiled: prepared.compiled,
        gate: prepared.gate,
        created_at: t,
      });
      return { strategyId, versionId, version };
    },
  };
}

/** Options of {@link agentDeps}. */
export interface AgentDepsOptions {
  config: Config;
  store: Store;
  /** The unlocked vault; without it only keyless (openai-compatible) providers can be built. */
  vault?: Vault;
  bus?: EventBus;
  /** `--provider NAME`: only this provider. */
  provider?: string;
  /** `--model M`: overrides the model of the providers used. */
  model?: string;
}

/** Everything `generateStrategy` needs, wired to the store, the vault and the config. */
export async function agentDeps(o: AgentDepsOptions): Promise<GenerationDeps> {
  const agents = o.model
    ? { ...o.config.agents, providers: o.config.agents.providers.map((p) => ({ ...p, model: o.model as string })) }
    : o.config.agents;
  const vault = o.vault;
  // The SDKs load only when a generation is asked for (the runtime imports this module to mount the MCP server).
  const { buildProviders } = await import('../authoring/agents/providers.js');
  const providers = await buildProviders(
    agents,
    vault ? (name) => vault.get(name, 'agent', 'llm provider key') : undefined,
    o.provider,
  );
  return {
    providers,
    smokeData: smokeData(),
    timeoutMs: o.config.agents.timeoutSeconds * 1000,
    maxFixAttempts: o.config.agents.maxFixAttempts,
    runs: o.store.agentRuns,
    versions: storeVersionSink(o.store),
    mask: (v) => defaultRedactor.redact(v),
    reference: agentReference(),
    ...(o.bus ? { bus: o.bus } : {}),
  };
}
