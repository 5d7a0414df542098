import { type BacktestData, type BacktestResult, runBacktest } from '../../backtest/runner.js';
import type { StrategyDefinition } from '../../strategy/types.js';
import { checkSource, formatFindings } from '../gate/check.js';
import { compileStrategySource, isCodeKind, type StrategySourceKind, strategyExits } from '../resolve.js';
import type { SandboxLimits } from '../sandbox/limits.js';

/** Which check refused a candidate. */
export type ValidationStage = 'answer' | 'gate' | 'compile' | 'backtest';

/** The verdict on one candidate source. */
export type CandidateVerdict =
  | {
      ok: true;
      definition: StrategyDefinition;
      /** The smoke backtest's headline figures. */
      smoke: { bars: number; trades: number; totalReturnPct: number | null; finalEquity: number };
    }
  | { ok: false; stage: ValidationStage; problems: string[] };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Judges a candidate the way a file on disk is judged: the safety gate (code kinds), then the one resolver's
 * compiler for its kind (rules, TypeScript, Pine), then a smoke backtest on the bundled data, where a thrown error
 * or a strategy callback error fails it. Code (TypeScript, JavaScript) runs its smoke backtest in the sandbox
 * backtest worker, so a candidate that loops or eats memory is stopped on its budget and reported as a backtest
 * problem instead of hanging the caller. `file` names the candidate in messages.
 */
export async function validateCandidate(
  source: string,
  kind: StrategySourceKind,
  smokeData: BacktestData,
  file: string,
  limits?: SandboxLimits,
): Promise<CandidateVerdict> {
  if (isCodeKind(kind)) {
    const gate = checkSource(source, file);
    if (!gate.ok) return { ok: false, stage: 'gate', problems: formatFindings(file, gate.findings).split('\n') };
  }
  let definition: StrategyDefinition;
  try {
    definition = compileStrategySource(source, kind, file);
  } catch (err) {
    return { ok: false, stage: 'compile', problems: [message(err)] };
  }
  try {
    const exits = strategyExits(definition);
    const options = { data: smokeData, ...(exits ? { exits } : {}) };
    let r: BacktestResult;
    if (isCodeKind(kind)) {
      const { runSandboxedBacktest } = await import('../sandbox/backtest-worker.js');
      r = await runSandboxedBacktest({ source, file, options }, limits ? { limits } : {});
    } else {
      r = runBacktest({ ...options, strategy: definition });
    }
    if (r.strategyErrors.length > 0) {
      return {
        ok: false,
        stage: 'backtest',
        problems: r.strategyErrors
          .slice(0, 5)
          .map((e) => `${e.hook} at ${new Date(e.time).toISOString()}: ${e.message}`),
      };
    }
    return {
      ok: true,
      definition,
      smoke: {
        bars: smokeData.columns.length,
        trades: r.trades.length,
        totalReturnPct: r.metrics.totalReturnPct,
        finalEquity: r.finalEquity,
      },
    };
  } catch (err) {
    return { ok: false, stage: 'backtest', problems: [message(err)] };
  }
}
