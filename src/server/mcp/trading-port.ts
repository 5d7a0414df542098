import type { ControlPosition } from '../../ops/control-port.js';
import type { ApiPort, ApiRiskState, ManualOrder, OrderDecision } from '../api/port.js';

/** What the MCP tools need from a running runtime: reads, and orders only through its risk engine. */
export interface McpTradingPort {
  status(): Promise<Record<string, unknown>>;
  positions(): Promise<ControlPosition[]>;
  riskState(): Promise<ApiRiskState>;
  /** The risk engine's decision without placing (absent: previews off). */
  previewOrder?(order: ManualOrder): Promise<OrderDecision>;
  /** Places through the risk engine (absent: manual orders off). */
  placeOrder?(order: ManualOrder, actor: string): Promise<OrderDecision>;
}

/** The API server's own port, as the MCP tools see it (the HTTP mount). */
export function tradingFromApiPort(port: ApiPort): McpTradingPort {
  return {
    status: () => port.status(),
    positions: () => port.control.positions(),
    riskState: () => port.riskState(),
    ...(port.previewOrder
      ? { previewOrder: (o: ManualOrder) => (port.previewOrder as NonNullable<ApiPort['previewOrder']>)(o) }
      : {}),
    ...(port.placeOrder
      ? {
          placeOrder: (o: ManualOrder, actor: string) =>
            (port.placeOrder as NonNullable<ApiPort['placeOrder']>)(o, actor),
        }
      : {}),
  };
}

/** A running runtime's REST API called with the CLI token (stdio `tradeforge mcp` on the runtime's machine). */
export function tradingOverHttp(
  call: <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>,
): McpTradingPort {
  return {
    status: () => call('GET', '/api/status'),
    positions: () => call('GET', '/api/positions'),
    riskState: () => call('GET', '/api/risk'),
    previewOrder: (o) => call('POST', '/api/orders/preview', o),
    // The runtime's route asks for confirm: true; the MCP confirmation token was checked before this call.
    placeOrder: (o) => call('POST', '/api/orders', { ...o, confirm: true }),
  };
}
