/**
 * The MCP server (UI-7): tools over the platform's own functions and the docs as resources. Which tools a caller
 * sees follows its role (`security/permissions.ts`): a viewer gets the read tools only, never one that trades.
 * Orders go through the runtime's risk engine and only with a confirmation token a person approved.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { smokeData } from '../../app/agent-services.js';
import { saveBacktest } from '../../app/backtest-records.js';
import type { HomePaths } from '../../app/home.js';
import { SAMPLE_DATA_FILE } from '../../app/home.js';
import type { GenerationDeps } from '../../authoring/agents/generate.js';
import { generateStrategy } from '../../authoring/agents/generate.js';
import { generationInput } from '../../authoring/agents/prompts.js';
import { validateCandidate } from '../../authoring/agents/validate.js';
import {
  compileStrategySource,
  isCodeSource,
  isStrategyFile,
  readStrategyFile,
  resolveStrategy,
  type StrategySourceKind,
  strategyExits,
} from '../../authoring/resolve.js';
import { runSandboxedBacktest } from '../../authoring/sandbox/backtest-worker.js';
import { dataHash } from '../../backtest/data-hash.js';
import { runBacktest } from '../../backtest/runner.js';
import { inSpan } from '../../core/tracing.js';
import { parseTimeframe } from '../../core/timeframe.js';
import { loadBars } from '../../data/load.js';
import { MarketDataStore } from '../../data/store.js';
import { type Action, can } from '../../security/permissions.js';
import type { Store } from '../../store/store.js';
import type { ManualOrder } from '../api/port.js';
import { manualOrderBody } from '../api/schemas.js';
import { ConfirmationBook } from './confirmations.js';
import type { McpTradingPort } from './trading-port.js';

/** What the MCP server works with. */
export interface McpDeps {
  store: Store;
  home: HomePaths;
  /** The running runtime (absent: position, risk and order tools say no runtime is running). */
  trading?: McpTradingPort;
  /** Builds the agents' dependencies on demand (absent: generation is not configured). */
  agents?: () => Promise<GenerationDeps>;
  /** Folder of docs/strategy-api.md, docs/rules.md, docs/pine.md. */
  docsDir: string;
}

/** Who calls: the role decides the tools, the actor is recorded with every order. */
export interface McpCaller {
  role: string;
  actor: string;
}

/** The docs served as resources (a file that is not there yet, such as the Pine subset, is not listed). */
export const MCP_DOCS: readonly { name: string; file: string; title: string }[] = [
  { name: 'strategy-api', file: 'strategy-api.md', title: 'The Strategy API (TypeScript strategies)' },
  { name: 'rules', file: 'rules.md', title: 'The rule language' },
  { name: 'pine', file: 'pine.md', title: 'The supported Pine Script subset' },
];

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const ok = (value: unknown): ToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }],
});
const refuse = (text: string): ToolResult => ({ content: [{ type: 'text', text }], isError: true });

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// The MCP input shape of an order; the API's own schema (`manualOrderBody`) then checks it the same way as the REST
// route does (a limit order needs a price, a stop order a stop price).
const orderShape = {
  symbol: z.string().min(1).max(40),
  side: z.enum(['buy', 'sell']),
  type: z.enum(['market', 'limit', 'stop']),
  quantity: z.number().positive(),
  price: z.number().positive().optional(),
  stopPrice: z.number().positive().optional(),
  deployment: z.string().max(100).optional(),
};

/** Builds an MCP server for one caller. */
export function buildMcpServer(deps: McpDeps, caller: McpCaller): McpServer {
  const server = new McpServer({ name: 'tradeforge', version: '0.1.0' });
  const may = (a: Action) => can(caller.role, a);
  const noRuntime = () => refuse('no runtime is running here: start one with `tradeforge start`');
  const confirmations = new ConfirmationBook(deps.store.kv);

  for (const doc of MCP_DOCS) {
    const file = join(deps.docsDir, doc.file);
    if (!existsSync(file)) continue;
    server.registerResource(
      doc.name,
      `tradeforge://docs/${doc.name}`,
      { title: doc.title, mimeType: 'text/markdown' },
      async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: readFileSync(file, 'utf8') }] }),
    );
  }

  server.registerTool(
    'list_data',
    { description: 'List the market data stored in the home folder and the bundled sample file.', inputSchema: {} },
    async () => {
      const stored = new MarketDataStore(deps.home.data).list();
      return ok({ stored, sample: SAMPLE_DATA_FILE });
    },
  );

  server.registerTool(
    'get_backtest_report',
    {
      description: 'Read a stored backtest: its settings, metrics and report files.',
      inputSchema: { id: z.string().min(1) },
    },
    async ({ id }) => {
      const b = await deps.store.backtests.get(id);
      return b ? ok(b) : refuse(`no backtest ${id} (list them with tradeforge backtests)`);
    },
  );

  server.registerTool(
    'check_strategy',
    {
      description:
        'Check a strategy source: the safety gate (TypeScript), the compiler, and a smoke backtest on the bundled data.',
      inputSchema: { source: z.string().min(1).max(200_000), kind: z.enum(['rules', 'ts', 'pine']) },
    },
    async ({ source, kind }) => {
      const v = await validateCandidate(source, kind, smokeData(), `strategy.${kind}`);
      return v.ok
        ? ok({ ok: true, name: v.definition.name, params: v.definition.params, smoke: v.smoke })
        : ok({ ok: false, stage: v.stage, problems: v.problems });
    },
  );

  server.registerTool(
    'list_deployments',
    {
      description: 'List deployments: the stored ones, and the running runtime status when one runs.',
      inputSchema: {},
    },
    async () => {
      const stored = await deps.store.deployments.list();
      const runtime = deps.trading
        ? await deps.trading.status().catch((e: unknown) => ({ error: messageOf(e) }))
        : undefined;
      return ok({ stored, ...(runtime ? { runtime } : { runtime: 'no runtime running' }) });
    },
  );

  server.registerTool(
    'list_positions',
    { description: 'Open positions of the running runtime.', inputSchema: {} },
    async () => (deps.trading ? ok(await deps.trading.positions()) : noRuntime()),
  );

  server.registerTool(
    'get_risk_state',
    { description: 'Risk state of the running runtime: kill switch, breakers, checks and limits.', inputSchema: {} },
    async () => (deps.trading ? ok(await deps.trading.riskState()) : noRuntime()),
  );

  if (may('backtest.run')) {
    server.registerTool(
      'run_backtest',
      {
        description:
          'Run a backtest of a strategy (a built-in name, a strategy file path, or a source with its kind) on a data ' +
          'file or stored symbol (default: the bundled sample); the run is stored and its id returned.',
        inputSchema: {
          strategy: z.string().optional(),
          source: z.string().max(200_000).optional(),
          kind: z.enum(['rules', 'ts', 'pine']).optional(),
          data: z.string().optional(),
          timeframe: z.string().optional(),
          params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
        },
      },
      async (a) => {
        try {
          if ((a.strategy === undefined) === (a.source === undefined)) {
            return refuse('give either strategy (a name or file path) or source with kind');
          }
          const given =
            a.source !== undefined
              ? { source: a.source, kind: (a.kind ?? 'rules') as StrategySourceKind, file: `mcp.${a.kind ?? 'rules'}` }
              : isStrategyFile(a.strategy as string)
                ? readStrategyFile(a.strategy as string)
                : undefined;
          // Code runs in a sandboxed backtest worker (CPU watchdog, heap cap): a stuck strategy never stalls this server.
          const code = isCodeSource(given) ? given : undefined;
          const def =
            given !== undefined
              ? compileStrategySource(given.source, given.kind, given.file)
              : resolveStrategy(a.strategy as string);
          const data = a.data ?? SAMPLE_DATA_FILE;
          const tf = a.timeframe ? parseTimeframe(a.timeframe) : undefined;
          const loaded = loadBars(data, {
            store: new MarketDataStore(deps.home.data),
            ...(tf ? { timeframe: tf } : {}),
          });
          const timeframe = loaded.timeframe ?? tf;
          if (!timeframe) return refuse(`cannot infer the timeframe of ${data}; pass timeframe (e.g. 1d)`);
          const exits = strategyExits(def);
          const startedAt = Date.now();
          const settings = {
            data: { symbol: loaded.symbol, columns: loaded.columns, timeframe },
            ...(a.params ? { params: a.params } : {}),
            ...(exits ? { exits } : {}),
          };
          // The backtest job is one span (tracing on): the run and the stored record.
          const { result, saved } = await inSpan(
            'backtest.job',
            {
              attributes: { 'backtest.strategy': def.name, 'backtest.symbol': loaded.symbol, 'backtest.source': 'mcp' },
            },
            async () => {
              const result =
                code !== undefined
                  ? await runSandboxedBacktest({ source: code.source, file: code.file, options: settings })
                  : runBacktest({ ...settings, strategy: def });
              const saved = await saveBacktest(deps.store, deps.home, result, {
                source: data,
                dataHash: dataHash([{ symbol: loaded.symbol, columns: loaded.columns }]),
                outputs: {},
                startedAt,
              });
              return { result, saved };
            },
          );
          return ok({
            id: saved.id,
            report: saved.path,
            strategy: result.strategy,
            trades: result.trades.length,
            finalEquity: result.finalEquity,
            metrics: result.metrics,
          });
        } catch (err) {
          return refuse(`backtest refused: ${messageOf(err)}`);
        }
      },
    );
  }

  if (may('strategy.write')) {
    server.registerTool(
      'generate_strategy',
      {
        description:
          'Ask the configured LLM for a strategy from a description, trading rules or Pine Script; it is checked and ' +
          'fixed up to 3 times, and stored as a strategy version. Without an answer in time, write it by hand.',
        inputSchema: {
          prompt: z.string().max(20_000).optional(),
          rules: z.string().max(200_000).optional(),
          pine: z.string().max(200_000).optional(),
          format: z.enum(['rules', 'ts']).optional(),
          name: z.string().max(64).optional(),
        },
      },
      async (a) => {
        const input = generationInput(a);
        if (!input) return refuse('give exactly one of prompt, rules or pine');
        if (!deps.agents) return refuse('no LLM provider is configured (agents.providers, docs/agents.md)');
        try {
          const r = await generateStrategy(
            { input, ...(a.format ? { format: a.format } : {}), ...(a.name ? { name: a.name } : {}) },
            await deps.agents(),
          );
          return ok({
            runId: r.runId,
            outcome: r.outcome,
            ...(r.strategy ? { strategy: r.strategy } : {}),
            ...(r.version ? { version: r.version } : {}),
            ...(r.problems ? { problems: r.problems } : {}),
            ...(r.manualEntry ? { manualEntry: r.manualEntry } : {}),
            attempts: r.attempts.map((x) => ({ attempt: x.attempt, model: x.model, outcome: x.outcome })),
          });
        } catch (err) {
          return refuse(`generation refused: ${messageOf(err)}`);
        }
      },
    );
  }

  if (may('trade')) {
    server.registerTool(
      'place_order',
      {
        description:
          'Place an order through the risk engine. Without confirmationToken nothing is placed: the risk engine ' +
          'previews it and a token is returned that the user must approve (tradeforge mcp approve TOKEN); then call ' +
          'again with the same order and the token. A token is for one order and expires after 5 minutes.',
        inputSchema: { ...orderShape, confirmationToken: z.string().optional() },
      },
      async ({ confirmationToken, ...raw }) => {
        const parsed = manualOrderBody.safeParse(
          Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
        );
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return refuse(`not placed: ${issue.path.join('.') || 'order'}: ${issue.message}`);
        }
        const { confirm: _confirm, ...order } = parsed.data as ManualOrder & { confirm?: boolean };
        if (confirmationToken === undefined) {
          const preview = deps.trading?.previewOrder ? await deps.trading.previewOrder(order) : undefined;
          if (preview && !preview.accepted) {
            return refuse(`not placed: the risk engine refuses it (${preview.code}: ${preview.detail ?? ''})`);
          }
          const c = await confirmations.request(order, caller.actor);
          return refuse(
            `not placed: an order needs a confirmation token that the user approves. Ask the user to run ` +
              `\`tradeforge mcp approve ${c.token}\`, then call place_order again with confirmationToken ` +
              `"${c.token}" (valid 5 minutes). Risk preview: ${preview ? JSON.stringify(preview) : 'no runtime running'}`,
          );
        }
        if (!deps.trading?.placeOrder) return noRuntime();
        const taken = await confirmations.consume(confirmationToken, order, caller.actor);
        if (!taken.ok) return refuse(`not placed: ${taken.reason}`);
        const d = await deps.trading.placeOrder(order, `${caller.actor} (approved by ${taken.c.approvedBy ?? 'user'})`);
        return d.accepted ? ok(d) : refuse(`not placed: the risk engine refused it (${d.code}: ${d.detail ?? ''})`);
      },
    );
  }
  return server;
}
