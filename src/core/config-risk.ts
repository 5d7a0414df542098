import { z } from 'zod';

/** Risk configuration (issue #4 keys). Every key optional: in a backtest only named rules apply. */
export const riskConfigSchema = z.strictObject({
  sizing: z
    .strictObject({
      method: z.enum(['fixed', 'fraction', 'risk', 'kelly']),
      amount: z.number().positive().optional(),
      fraction: z.number().positive().max(1).optional(),
      riskPerTrade: z.number().positive().max(1).optional(),
      kellyFraction: z.number().positive().max(1).optional(),
      minSize: z.number().nonnegative().optional(),
      maxSize: z.number().positive().optional(),
      /** Closed trades needed before Kelly sizing trusts the strategy's statistics (default 20). */
      kellyMinTrades: z.number().int().positive().optional(),
    })
    .optional(),
  maxOrderNotional: z.number().positive().optional(),
  maxPositionNotional: z.number().positive().optional(),
  capitalCap: z.number().positive().optional(),
  maxGrossExposure: z.number().positive().optional(),
  maxConcentration: z.number().positive().max(1).optional(),
  priceBandAtr: z.number().positive().optional(),
  marginFloor: z.number().min(0).max(1).optional(),
  orderRate: z
    .strictObject({ perMinute: z.number().int().positive(), perSecond: z.number().int().positive() })
    .optional(),
  venueRequestsPerMinute: z.number().int().positive().optional(),
  duplicateSignals: z.boolean().optional(),
  /** Cash accounts: refuse buys whose cost plus estimated fees exceed cash (INSUFFICIENT_FUNDS). */
  insufficientFunds: z.strictObject({ feeRate: z.number().min(0).max(0.1).optional() }).optional(),
  staleOrderMinutes: z.strictObject({ buy: z.number().positive(), sell: z.number().positive() }).optional(),
  breakers: z
    .strictObject({
      dailyLoss: z.number().positive().max(1).optional(),
      emergencyLoss: z.number().positive().max(1).optional(),
      maxDrawdown: z.number().positive().max(1).optional(),
      consecutiveLosses: z.number().int().positive().optional(),
      consecutiveLossesCooldownMinutes: z.number().positive().optional(),
      stoplossGuard: z
        .strictObject({
          trades: z.number().int().positive(),
          lookbackMinutes: z.number().positive(),
          lockMinutes: z.number().positive(),
        })
        .optional(),
      cooldownMinutes: z.number().min(0).optional(),
    })
    .optional(),
  dryRun: z.boolean().optional(),
});

/** Risk settings as configured. */
export type RiskConfig = z.infer<typeof riskConfigSchema>;
