import type { Command } from 'commander';

/** Flags of `tradeforge strategy generate`. */
interface GenerateFlags {
  prompt?: string;
  rules?: string;
  pine?: string;
  format?: string;
  name?: string;
  provider?: string;
  model?: string;
  out?: string;
  config?: string;
  json?: boolean;
}

/** Registers `tradeforge strategy generate` on the `strategy` command (called by strategy.ts). */
export function registerGenerate(strategy: Command): void {
  strategy
    .command('generate')
    .description(
      'ask an LLM for a strategy from a description, trading rules or Pine Script; it is checked by the gate, the ' +
        'compiler and a smoke backtest, fixed up to 3 times, and stored as a strategy version (docs/agents.md)',
    )
    .option('--prompt <text>', 'a description of the trading idea')
    .option('--rules <file>', 'a file of trading rules (plain words or the rule language)')
    .option('--pine <file>', 'a Pine Script strategy to translate')
    .option('--format <rules|ts>', 'write the strategy in the rule language (default) or as TypeScript')
    .option('--name <name>', 'store it under this strategy name (default: the name the strategy declares)')
    .option('--provider <name>', 'use only this configured provider (agents.providers[].name)')
    .option('--model <model>', "override the provider's model")
    .option('--out <file>', 'write the strategy to this file (default: print it)')
    .option('--config <file>', 'config file (JSON or YAML)')
    .option('--json', 'print the result as JSON')
    .action(async (o: GenerateFlags) => {
      await runGenerate(o);
    });
}

async function runGenerate(o: GenerateFlags): Promise<void> {
  const { existsSync, readFileSync } = await import('node:fs');
  const { extname, resolve } = await import('node:path');
  const { ValidationError } = await import('../../core/errors.js');
  const given = [o.prompt !== undefined, o.rules !== undefined, o.pine !== undefined].filter(Boolean).length;
  if (given !== 1)
    throw new ValidationError('give exactly one of --prompt TEXT, --rules FILE or --pine FILE', 'prompt');
  if (o.format !== undefined && o.format !== 'rules' && o.format !== 'ts') {
    throw new ValidationError(`--format must be rules or ts, got "${o.format}"`, 'format');
  }
  const read = (file: string, flag: string) => {
    if (!existsSync(file)) throw new ValidationError(`--${flag} ${file}: file not found`, flag);
    return readFileSync(file, 'utf8');
  };
  const { generationInput } = await import('../../authoring/agents/prompts.js');
  // Exactly one was given (checked above, before any file is read).
  const input = generationInput({
    prompt: o.prompt,
    rules: o.rules !== undefined ? read(o.rules, 'rules') : undefined,
    pine: o.pine !== undefined ? read(o.pine, 'pine') : undefined,
  }) as NonNullable<ReturnType<typeof generationInput>>;
  if (input.text.trim() === '') throw new ValidationError('the input is empty', input.kind);

  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { agentDeps } = await import('../../app/agent-services.js');
  const { generateStrategy } = await import('../../authoring/agents/generate.js');
  const { store, config } = await openConfiguredStore({ ...(o.config ? { configFile: o.config } : {}) });
  try {
    const used = o.provider ? config.agents.providers.filter((p) => p.name === o.provider) : config.agents.providers;
    if (config.agents.providers.length === 0) {
      throw new ValidationError(
        'no LLM provider configured: add agents.providers to the config (docs/agents.md), or write the strategy ' +
          'yourself with `tradeforge strategy new NAME`',
        'agents.providers',
      );
    }
    let vault: import('../../security/vault.js').Vault | undefined;
    if (used.some((p) => p.apiKeySecret)) {
      const { unlockVaultForCli } = await import('../../security/cli-unlock.js');
      vault = await unlockVaultForCli(store, process.env);
    }
    const deps = await agentDeps({
      config,
      store,
      ...(vault ? { vault } : {}),
      ...(o.provider ? { provider: o.provider } : {}),
      ...(o.model ? { model: o.model } : {}),
    });
    const quiet = o.json === true;
    const result = await generateStrategy(
      {
        input,
        ...(o.format ? { format: o.format as 'rules' | 'ts' } : {}),
        ...(o.name ? { name: o.name } : {}),
        onDelta: (text) => {
          if (!quiet) process.stderr.write(text);
        },
        onStep: (s) => {
          if (quiet || s.step === 'llm.delta') return;
          if (s.step === 'llm.request')
            process.stderr.write(`\n[${s.source}] asking (attempt ${(s.detail as { attempt: number }).attempt})\n`);
          if (s.step === 'llm.failed' || s.step === 'llm.retry' || s.step === 'validate') {
            process.stderr.write(`\n[${s.source}] ${s.step}: ${JSON.stringify(s.detail)}\n`);
          }
        },
      },
      deps,
    );
    if (result.outcome === 'generated' && result.strategy) {
      const s = result.strategy;
      if (o.out) {
        const { writeTextAtomic } = await import('../../backtest/report/write.js');
        const file = extname(o.out) ? o.out : `${o.out}.${s.kind}`;
        writeTextAtomic(file, s.source);
        if (!quiet) process.stderr.write(`\nwrote ${resolve(file)}\n`);
      }
      if (o.json) process.stdout.write(`${JSON.stringify(summary(result), null, 2)}\n`);
      else {
        if (!o.out) process.stdout.write(s.source);
        const v = result.version;
        process.stderr.write(
          `generated ${s.name} (${s.kind}) in ${result.attempts.length} attempt(s)` +
            `${v ? `, stored as version ${v.version} of ${v.strategyId}` : ''}; smoke backtest: ` +
            `${s.smoke.trades} trades on ${s.smoke.bars} bars; tokens ${result.usage.input} in / ${result.usage.output} out` +
            `${result.costUsd !== undefined ? `, $${result.costUsd.toFixed(4)}` : ''}; run ${result.runId}\n`,
        );
      }
      return;
    }
    process.exitCode = 1;
    if (o.json) {
      process.stdout.write(`${JSON.stringify(summary(result), null, 2)}\n`);
      return;
    }
    if (result.outcome === 'manual' && result.manualEntry) {
      process.stderr.write(
        `\n${result.manualEntry.message}\n` +
          `start from a template: tradeforge strategy new NAME (TypeScript) or a .rules file (docs/rules.md)` +
          `${result.manualEntry.draft ? `; the last draft:\n${result.manualEntry.draft}` : ''}\n`,
      );
    } else if (result.outcome === 'failed') {
      process.stderr.write(
        `\nno valid strategy after ${result.attempts.length} attempt(s) (run ${result.runId}); last problems:\n` +
          `${(result.problems ?? []).map((p) => `  ${p}`).join('\n')}\n`,
      );
    } else process.stderr.write(`\ngeneration ${result.outcome} (run ${result.runId})\n`);
  } finally {
    await store.close();
  }
}

function summary(r: import('../../authoring/agents/generate.js').GenerationResult) {
  return {
    runId: r.runId,
    outcome: r.outcome,
    ...(r.strategy ? { strategy: r.strategy } : {}),
    ...(r.version ? { version: r.version } : {}),
    ...(r.problems ? { problems: r.problems } : {}),
    ...(r.manualEntry ? { manualEntry: r.manualEntry } : {}),
    attempts: r.attempts.map((a) => ({ attempt: a.attempt, provider: a.provider, model: a.model, outcome: a.outcome })),
    usage: r.usage,
    ...(r.costUsd !== undefined ? { costUsd: r.costUsd } : {}),
  };
}
