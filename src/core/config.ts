import { z } from 'zod';
import { riskConfigSchema } from './config-risk.js';
import { ConfigError } from './errors.js';
import { runSpecShape } from './run-spec.js';

export { type RiskConfig, riskConfigSchema } from './config-risk.js';

/**
 * One deployment: a run spec (the same fields as a backtest's) plus its id, where it runs and with how much capital.
 * The one schema of a deployment, for the config file's `deployments[]` and `POST /api/deployments` alike.
 */
export const deploymentConfigSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'ids are 1-64 letters, digits, ".", "_" or "-"'),
  ...runSpecShape,
  venue: z.string(),
  /** The deployment's capital: its starting cash and the risk engine's per-strategy cap. */
  capitalCap: z.number().positive().optional(),
});

/** One deployment as configured (`deployments[]`, or the body of `POST /api/deployments`). */
export type DeploymentSpec = z.infer<typeof deploymentConfigSchema>;

const severity = z.enum(['info', 'warning', 'critical']);

/** `alerts.telegram`: the bot token is a vault secret named by `tokenSecret`, never the token itself. */
export const telegramAlertSchema = z.strictObject({
  tokenSecret: z.string().default('telegram.token'),
  chatIds: z.array(z.union([z.number(), z.string()])).default([]),
  apiRoot: z.string().optional(),
  minSeverity: severity.default('info'),
});

/** `alerts.discord`: the webhook URL is a vault secret named by `webhookSecret`. */
export const discordAlertSchema = z.strictObject({
  webhookSecret: z.string().default('discord.webhook'),
  minSeverity: severity.default('warning'),
});

/** `alerts.email`: SMTP; the password is a vault secret named by `passwordSecret`. */
export const emailAlertSchema = z.strictObject({
  host: z.string(),
  port: z.number().int().default(587),
  secure: z.boolean().default(false),
  user: z.string().optional(),
  passwordSecret: z.string().default('smtp.password'),
  from: z.string(),
  to: z.array(z.string()).min(1),
  minSeverity: severity.default('critical'),
});

/** Platform configuration: file (JSON/YAML) plus `TRADEFORGE__SECTION__KEY` environment overrides. */
export const configSchema = z.strictObject({
  /** Data directory; `TRADEFORGE_HOME` or `~/.tradeforge` when unset. */
  home: z.string().optional(),
  profile: z.enum(['dev', 'dry_run', 'live']).default('dev'),
  database: z
    .strictObject({
      url: z.string().optional(),
      /** PostgreSQL schema (created when missing); `public` when unset. */
      schema: z.string().optional(),
      /** PostgreSQL: role the application connects as; an administrator's `db migrate` grants it its rights. */
      appRole: z.string().optional(),
      /** PostgreSQL: NOLOGIN role that owns the audit table (default tradeforge_audit_owner). */
      auditOwnerRole: z.string().optional(),
      /**
       * PostgreSQL, with appRole: row-level security policies (docs/store.md): an administrator's `db migrate`
       * creates `<appRole>_admin` and `<appRole>_viewer` and the policies that govern the app role and them.
       */
      rowSecurity: z.boolean().default(false),
    })
    .prefault({}),
  /** Audit checkpoints kept outside the database (docs/store.md). */
  audit: z
    .strictObject({
      /** Append-only file outside the home folder that `audit checkpoint` writes and `audit verify` checks. */
      checkpointFile: z.string().optional(),
      /** Minutes between the runtime's checkpoints (also one on every kill switch); 0 = only on kill switches. */
      checkpointIntervalMinutes: z.number().min(0).default(60),
      /** Also send each checkpoint to the alert channels (info severity). */
      checkpointAlerts: z.boolean().default(false),
    })
    .prefault({}),
  /** Scale-out job queue (BullMQ on Redis): `tradeforge worker`, `optimize --distributed` (docs/scale-out.md). */
  queue: z
    .strictObject({
      url: z.string().default('redis://127.0.0.1:6379'),
      prefix: z.string().default('tradeforge'),
    })
    .prefault({}),
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      corsOrigins: z.array(z.string()).default([]),
      ipAllowList: z.array(z.string()).default([]),
      /** Host names the API answers to besides loopback and the bind address (DNS-rebinding guard). */
      allowedHosts: z.array(z.string()).default([]),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      file: z.string().optional(),
      maxBytes: z
        .number()
        .int()
        .positive()
        .default(10 * 1024 * 1024),
      maxFiles: z.number().int().positive().default(5),
    })
    .prefault({}),
  /** Traces (docs/operations.md "Traces"): off unless an OTLP/HTTP traces endpoint is given. */
  telemetry: z
    .strictObject({
      /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; unset: tracing off (no cost). */
      otlpUrl: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
  risk: riskConfigSchema.prefault({}),
  venues: z
    .array(
      z.strictObject({
        id: z.string(),
        type: z.enum(['paper', 'ccxt', 'ig', 'ibkr', 'simulator']),
        exchange: z.string().optional(),
        sandbox: z.boolean().default(false),
        /** Names of vault secrets holding credentials; never the credentials themselves. */
        secrets: z.record(z.string(), z.string()).default({}),
        urls: z.record(z.string(), z.string()).optional(),
        /**
         * `simulator` and `ccxt` venues: orders and fills from the exchange's user-data stream, REST polling only
         * while it is down (unset: true); false always polls. Other types have no such stream and refuse the key.
         */
        userStream: z.boolean().optional(),
        options: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .default([]),
  /** Deployments: a run spec (the same fields as a backtest's) plus where it runs and with how much capital. */
  deployments: z.array(deploymentConfigSchema).default([]),
  /**
   * Removed: the live profile runs only stored versions promoted to `live` (docs/promotion.md). Kept in the schema
   * only to refuse an old config with a migration message instead of a bare "unrecognized key".
   */
  approvedStrategies: z
    .unknown()
    .optional()
    .refine((v) => v === undefined, {
      message:
        '"approvedStrategies" was removed: the live profile runs only stored strategy versions promoted to live (tradeforge strategy gate / deploy / promote, docs/promotion.md); delete the key',
    }),
  /** Startup reconciliation policy (VENUE-6): what to do with open venue orders we have no record of. */
  reconcile: z.strictObject({ unknownOrders: z.enum(['adopt', 'cancel']).default('cancel') }).prefault({}),
  /** Live runtime timings. */
  runtime: z
    .strictObject({
      heartbeatSeconds: z.number().positive().default(60),
      /** A market-data stream silent this long marks its symbol stale (no new entries). */
      staleAfterSeconds: z.number().positive().default(30),
      /** Closed bars fetched on start so indicators are ready. */
      warmupBars: z.number().int().min(0).max(5000).default(300),
      /** Venue order/fill polling period where the venue does not push them. */
      pollMs: z.number().int().positive().default(1000),
      /** Funding payments of futures venues are read this often and booked into the deployments' books. */
      fundingPollSeconds: z.number().positive().default(60),
      /** Build bars of this many seconds from the ticker stream instead of venue candles (demo, tests). */
      barSeconds: z.number().positive().optional(),
    })
    .prefault({}),
  /** LLM agents: strategy generation and auto-fix (docs/agents.md). Keys are vault secrets, never values here. */
  agents: z
    .strictObject({
      /** The provider `strategy generate` uses without --provider (default: the first one listed). */
      defaultProvider: z.string().optional(),
      /** A whole generation (every provider, retry and fix attempt) ends after this long; then manual entry. */
      timeoutSeconds: z.number().positive().max(3600).default(60),
      /** Auto-fix attempts after a candidate fails compile, gate or smoke backtest (at most 3). */
      maxFixAttempts: z.number().int().min(0).max(3).default(3),
      providers: z
        .array(
          z.strictObject({
            name: z
              .string()
              .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'names are 1-64 letters, digits, ".", "_" or "-"'),
            type: z.enum(['openai', 'anthropic', 'openai-compatible']),
            model: z.string().min(1),
            /** API root; required for openai-compatible (e.g. a local model server). */
            baseUrl: z.string().url().optional(),
            /** Name of the vault secret holding the API key (optional for openai-compatible). */
            apiKeySecret: z.string().optional(),
            /** One attempt with no answer byte for this long is abandoned (default 30 s). */
            timeoutSeconds: z.number().positive().default(30),
            /** Retries of 429, 5xx and unreachable answers, with backoff honouring Retry-After. */
            maxRetries: z.number().int().min(0).max(10).default(2),
            retryBaseMs: z.number().int().min(0).default(500),
            maxTokens: z.number().int().positive().default(4096),
            /** US dollars per million tokens, for the cost of each run; no cost is shown without them. */
            prices: z.strictObject({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }).optional(),
          }),
        )
        .default([]),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      telegram: telegramAlertSchema.optional(),
      discord: discordAlertSchema.optional(),
      email: emailAlertSchema.optional(),
      ratePerMinute: z.number().int().positive().default(20),
      dedupSeconds: z.number().int().min(0).default(300),
    })
    .prefault({}),
});

/** Parsed platform configuration. */
export type Config = z.infer<typeof configSchema>;

/** The prefix of environment overrides: `TRADEFORGE__SERVER__PORT=9000` sets `server.port`. */
export const ENV_PREFIX = 'TRADEFORGE__';

const normalise = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');

// Walks the zod schema to find the real (camelCase) key matching an env segment such as MAX_ORDER_NOTIONAL.
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let s: z.ZodType = schema;
  for (let i = 0; i < 8; i++) {
    const def = (s as unknown as { def: { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> } })
      .def;
    if (def.type === 'object') return def.shape;
    if (def.innerType) s = def.innerType;
    else return undefined;
  }
  return undefined;
}

function parseEnvValue(raw: string): unknown {
  const t = raw.trim();
  if (t === '') return raw;
  try {
    return JSON.parse(t);
  } catch {
    return raw;
  }
}

/**
 * Merges `TRADEFORGE__A__B` variables into `raw` (a copy). Returns the merged object and, per dotted key, the
 * variable that set it, so errors can name the source.
 */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: Record<string, string | undefined>,
): { merged: Record<string, unknown>; sources: Map<string, string> } {
  const merged: Record<string, unknown> = structuredClone(raw);
  const sources = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const segments = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    let shape: Record<string, z.ZodType> | undefined = objectShape(configSchema);
    let target: Record<string, unknown> = merged;
    const path: string[] = [];
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const key = shape ? Object.keys(shape).find((k) => normalise(k) === normalise(seg)) : undefined;
      if (!key) {
        const where = path.length ? path.join('.') : 'the top level';
        throw new ConfigError(
          path.concat(seg.toLowerCase()).join('.'),
          `unknown key "${seg}" in ${where} (from environment variable ${name})`,
        );
      }
      path.push(key);
      if (i === segments.length - 1) {
        target[key] = parseEnvValue(value);
      } else {
        const next = target[key];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) target[key] = {};
        target = target[key] as Record<string, unknown>;
        shape = shape ? objectShape(shape[key]) : undefined;
      }
    }
    sources.set(path.join('.'), name);
  }
  return { merged, sources };
}

/** Validates a raw config object (already read from a file) plus environment overrides. Throws ConfigError. */
export function resolveConfig(raw: unknown, env: Record<string, string | undefined> = {}, fileName?: string): Config {
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError('', `${fileName ?? 'config'} must hold an object at the top level`);
  }
  const { merged, sources } = applyEnvOverrides((raw as Record<string, unknown>) ?? {}, env);
  const result = configSchema.safeParse(merged);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue.path.map(String).join('.');
  let origin = fileName ? ` (in ${fileName})` : '';
  for (const [k, v] of sources) if (key === k || key.startsWith(`${k}.`)) origin = ` (from environment variable ${v})`;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  throw new ConfigError(key || '(root)', `${message}${origin}`);
}
