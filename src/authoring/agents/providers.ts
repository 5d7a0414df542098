import type { Config } from '../../core/config.js';
import { ConfigError } from '../../core/errors.js';
import { AnthropicProvider } from './anthropic-provider.js';
import type { LlmProvider } from './llm.js';
import { OpenAiProvider, type ProviderSettings } from './openai-provider.js';

/** One `agents.providers[]` entry of the config. */
export type ProviderConfig = Config['agents']['providers'][number];

/** Reads a vault secret by name (the composition root passes the unlocked vault's reader). */
export type SecretReader = (name: string) => Promise<string>;

/** Builds one provider from its config entry, reading its key from the vault. */
export async function buildProvider(cfg: ProviderConfig, readSecret: SecretReader | undefined): Promise<LlmProvider> {
  if (cfg.type === 'openai-compatible' && !cfg.baseUrl) {
    throw new ConfigError(`agents.providers.${cfg.name}.baseUrl`, 'an openai-compatible provider needs a baseUrl');
  }
  if (cfg.type !== 'openai-compatible' && !cfg.apiKeySecret) {
    throw new ConfigError(
      `agents.providers.${cfg.name}.apiKeySecret`,
      `provider ${cfg.name} (${cfg.type}) needs apiKeySecret, the vault secret holding its key (tradeforge secrets set NAME)`,
    );
  }
  let apiKey: string | undefined;
  if (cfg.apiKeySecret) {
    if (!readSecret) {
      throw new ConfigError(
        `agents.providers.${cfg.name}.apiKeySecret`,
        'the vault is locked: set TRADEFORGE_MASTER_KEY(_FILE) or TRADEFORGE_PASSWORD(_FILE)',
      );
    }
    apiKey = await readSecret(cfg.apiKeySecret);
  }
  const settings: ProviderSettings = {
    name: cfg.name,
    model: cfg.model,
    ...(cfg.baseUrl ? { baseUrl: cfg.baseUrl } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    retry: {
      maxRetries: cfg.maxRetries,
      baseDelayMs: cfg.retryBaseMs,
      maxDelayMs: 30_000,
      idleTimeoutMs: cfg.timeoutSeconds * 1000,
    },
    maxTokens: cfg.maxTokens,
    ...(cfg.prices ? { prices: cfg.prices } : {}),
  };
  return cfg.type === 'anthropic' ? new AnthropicProvider(settings) : new OpenAiProvider(settings, cfg.type);
}

/**
 * The providers a generation tries, in order: `only` alone when named (unknown names throw), else the default
 * provider first and the others after it as fallbacks.
 */
export async function buildProviders(
  agents: Config['agents'],
  readSecret: SecretReader | undefined,
  only?: string,
): Promise<LlmProvider[]> {
  const all = agents.providers;
  if (only !== undefined) {
    const one = all.find((p) => p.name === only);
    if (!one) {
      const names = all.map((p) => p.name).join(', ') || 'none configured';
      throw new ConfigError('agents.providers', `no provider named "${only}" (configured: ${names})`);
    }
    return [await buildProvider(one, readSecret)];
  }
  const first = agents.defaultProvider ?? all[0]?.name;
  const ordered = [...all].sort((a, b) => Number(b.name === first) - Number(a.name === first));
  const out: LlmProvider[] = [];
  for (const p of ordered) out.push(await buildProvider(p, readSecret));
  return out;
}
