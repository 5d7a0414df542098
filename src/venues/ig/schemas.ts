import { z } from 'zod';

/** zod schemas of the IG REST responses the client reads (unknown fields are ignored: IG adds fields). */

/** POST /session version 2 body (tokens come in the CST and X-SECURITY-TOKEN headers). */
export const sessionV2Schema = z.object({
  currentAccountId: z.string(),
  lightstreamerEndpoint: z.string(),
  clientId: z.string().optional(),
  accounts: z
    .array(z.object({ accountId: z.string(), accountName: z.string().optional(), preferred: z.boolean().optional() }))
    .optional(),
});

/** The OAuth token of a version 3 session. */
export const oauthTokenSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.string(),
  expires_in: z.union([z.string(), z.number()]).transform(Number),
});

/** POST /session version 3 body. */
export const sessionV3Schema = z.object({
  accountId: z.string(),
  clientId: z.string().optional(),
  lightstreamerEndpoint: z.string(),
  oauthToken: oauthTokenSchema,
});

/** One row of GET /operations/application: the API key's real allowances. */
export const applicationSchema = z.object({
  apiKey: z.string(),
  status: z.string(),
  allowanceApplicationOverall: z.number(),
  allowanceAccountTrading: z.number(),
  allowanceAccountOverall: z.number(),
  allowanceAccountHistoricalData: z.number(),
  concurrentSubscriptionsLimit: z.number().optional(),
});

/** GET /accounts. */
export const accountsSchema = z.object({
  accounts: z.array(
    z.object({
      accountId: z.string(),
      accountName: z.string().optional(),
      accountType: z.string().optional(),
      preferred: z.boolean().optional(),
      currency: z.string(),
      balance: z.object({ balance: z.number(), deposit: z.number(), profitLoss: z.number(), available: z.number() }),
    }),
  ),
});

const distance = z.object({ unit: z.enum(['POINTS', 'PERCENTAGE']), value: z.number() });

/** GET /markets/{epic} version 3 (the parts used for rounding and validation). */
export const marketSchema = z.object({
  instrument: z.object({
    epic: z.string(),
    name: z.string(),
    type: z.string(),
    lotSize: z.number().optional(),
    currencies: z.array(z.object({ code: z.string(), isDefault: z.boolean().optional() })).optional(),
    controlledRiskAllowed: z.boolean().optional(),
    valueOfOnePip: z.string().optional(),
    marginFactor: z.number().optional(),
    marginFactorUnit: z.enum(['PERCENTAGE', 'POINTS']).optional(),
  }),
  dealingRules: z.object({
    minDealSize: distance,
    minNormalStopOrLimitDistance: distance,
    minControlledRiskStopDistance: distance,
    maxStopOrLimitDistance: distance,
    minStepDistance: distance.optional(),
  }),
  snapshot: z.object({
    bid: z.number().nullable(),
    offer: z.number().nullable(),
    decimalPlacesFactor: z.number(),
    scalingFactor: z.number(),
    marketStatus: z.string(),
    updateTime: z.string().optional(),
  }),
});

const bidAsk = z.object({ bid: z.number().nullable(), ask: z.number().nullable(), lastTraded: z.number().nullable() });

/** GET /prices/{epic} version 3: bars with bid and ask sides, and the historical-data allowance left. */
export const pricesSchema = z.object({
  prices: z.array(
    z.object({
      snapshotTimeUTC: z.string(),
      openPrice: bidAsk,
      closePrice: bidAsk,
      highPrice: bidAsk,
      lowPrice: bidAsk,
      lastTradedVolume: z.number().nullable().optional(),
    }),
  ),
  metadata: z.object({
    allowance: z.object({ remainingAllowance: z.number(), totalAllowance: z.number(), allowanceExpiry: z.number() }),
  }),
});

/** GET /session version 1: the session's account and currency. */
export const sessionDetailsSchema = z.object({ accountId: z.string(), currency: z.string().optional() });

/** POST /positions/otc, /workingorders/otc and the close: the reference to confirm. */
export const dealReferenceSchema = z.object({ dealReference: z.string() });

/** GET /confirms/{dealReference}. */
export const confirmSchema = z.object({
  dealReference: z.string(),
  dealId: z.string().nullable(),
  dealStatus: z.enum(['ACCEPTED', 'REJECTED']),
  reason: z.string(),
  status: z.string().nullable(),
  epic: z.string().nullable().optional(),
  direction: z.enum(['BUY', 'SELL']).nullable().optional(),
  size: z.number().nullable().optional(),
  level: z.number().nullable().optional(),
  stopLevel: z.number().nullable().optional(),
  limitLevel: z.number().nullable().optional(),
  guaranteedStop: z.boolean().optional(),
  trailingStop: z.boolean().optional(),
  date: z.string().optional(),
});

/** GET /positions version 2. */
export const positionsSchema = z.object({
  positions: z.array(
    z.object({
      position: z.object({
        dealId: z.string(),
        dealReference: z.string().optional(),
        direction: z.enum(['BUY', 'SELL']),
        size: z.number(),
        level: z.number(),
        currency: z.string(),
        stopLevel: z.number().nullable(),
        limitLevel: z.number().nullable(),
        controlledRisk: z.boolean(),
        trailingStep: z.number().nullable().optional(),
        trailingStopDistance: z.number().nullable().optional(),
        createdDateUTC: z.string().optional(),
      }),
      market: z.object({ epic: z.string(), bid: z.number().nullable(), offer: z.number().nullable() }),
    }),
  ),
});

/** GET /workingorders version 2. */
export const workingOrdersSchema = z.object({
  workingOrders: z.array(
    z.object({
      workingOrderData: z.object({
        dealId: z.string(),
        direction: z.enum(['BUY', 'SELL']),
        epic: z.string(),
        orderSize: z.number(),
        orderLevel: z.number(),
        orderType: z.enum(['LIMIT', 'STOP']),
        timeInForce: z.string(),
        createdDateUTC: z.string().optional(),
        stopDistance: z.number().nullable().optional(),
        limitDistance: z.number().nullable().optional(),
        guaranteedStop: z.boolean().optional(),
      }),
      marketData: z.object({ epic: z.string() }).optional(),
    }),
  ),
});

/** An IG error body. */
export const errorSchema = z.object({ errorCode: z.string() });

/** GET /history/activity version 3 (detailed): deals by IG's and our references, with their actions. */
export const activitySchema = z.object({
  activities: z.array(
    z.object({
      date: z.string(),
      epic: z.string(),
      dealId: z.string(),
      type: z.string(),
      status: z.string(),
      channel: z.string().optional(),
      details: z
        .object({
          dealReference: z.string().optional(),
          actions: z
            .array(z.object({ actionType: z.string(), affectedDealId: z.string().nullable().optional() }))
            .default([]),
          direction: z.enum(['BUY', 'SELL']).nullable().optional(),
          size: z.number().nullable().optional(),
          level: z.number().nullable().optional(),
        })
        .nullable()
        .optional(),
    }),
  ),
  metadata: z
    .object({ paging: z.object({ size: z.number().optional(), next: z.string().nullable().optional() }).optional() })
    .optional(),
});
