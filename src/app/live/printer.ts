/** Console lines of a running runtime (the demo and `start` in a terminal): orders, fills, trades, alerts. */
import type { EventBus } from '../../core/events.js';
import type { Engine } from '../../engine/engine.js';

function fmt(x: number, d = 2): string {
  return Number.isFinite(x) ? x.toFixed(d) : String(x);
}

/** One line per closed live bar: close, position, equity and realised P&L. */
export function barLine(engine: Engine, s: number, row: number): string {
  const f = engine.feeds[s];
  const c = f.columns;
  const pf = engine.portfolio;
  const t = new Date(c.time[row]).toISOString().slice(11, 19);
  return `bar   ${t} ${f.symbol} close ${fmt(c.close[row])}  position ${fmt(pf.qty[s], 5)}  equity ${fmt(pf.equity())}  realised P&L ${fmt(pf.realizedPnl)} (fees ${fmt(pf.feesPaid)})`;
}

/** Prints orders, fills, trades, risk rejections and alerts as readable lines; returns the unsubscribe. */
export function subscribePrinter(bus: EventBus, print: (line: string) => void): () => void {
  const t = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const offs = [
    bus.subscribe('order.submitted.v1', (e) => {
      const o = e.payload.order;
      const px = o.type === 'stop' ? ` stop ${o.stopPrice}` : o.price !== undefined ? ` @ ${o.price}` : '';
      print(
        `order ${t(e.time)} ${o.strategyId} ${o.side.toUpperCase()} ${o.quantity} ${o.symbol} ${o.type}${px}${o.tag ? ` [${o.tag}]` : ''}`,
      );
    }),
    bus.subscribe('order.rejected.v1', (e) =>
      print(`order ${t(e.time)} REJECTED ${e.payload.order.symbol}: ${e.payload.order.reason ?? ''}`),
    ),
    bus.subscribe('fill.executed.v1', (e) => {
      const f = e.payload.fill;
      print(
        `fill  ${t(e.time)} ${f.strategyId} ${f.side.toUpperCase()} ${f.quantity} ${f.symbol} @ ${fmt(f.price)} fee ${fmt(f.fee, 4)}`,
      );
    }),
    bus.subscribe('trade.closed.v1', (e) => {
      const tr = e.payload.trade;
      print(
        `trade ${t(e.time)} ${tr.strategyId} ${tr.symbol} ${tr.side} closed: net P&L ${fmt(tr.pnl)} (${fmt(tr.pnlPct * 100)}%, after ${fmt(tr.fees)} fees) ${tr.exitReason}`,
      );
    }),
    bus.subscribe('risk.rejected.v1', (e) =>
      print(`risk  ${t(e.time)} ${e.payload.intent.symbol} blocked: ${e.payload.code} ${e.payload.detail}`),
    ),
    bus.subscribe('alert.raised.v1', (e) =>
      print(`alert ${t(e.time)} [${e.payload.severity}] ${e.payload.title}: ${e.payload.message}`),
    ),
    bus.subscribe('killswitch.triggered.v1', (e) =>
      print(`KILL  ${t(e.time)} kill switch by ${e.payload.actor}: ${e.payload.reason}`),
    ),
  ];
  return () => {
    for (const o of offs) o();
  };
}
