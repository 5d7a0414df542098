import type { ControlBalance, ControlPosition, ControlProfit, ControlResult, ControlStatus } from './control-port.js';

const fmt = (v: number, digits = 2): string =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : String(v);
const signed = (v: number): string => `${v >= 0 ? '+' : ''}${fmt(v)}`;

/** `/status` as text. */
export function formatStatus(s: ControlStatus, now = Date.now()): string {
  const icon = s.state === 'running' ? '🟢' : s.state === 'halted' ? '🔴' : '⚪';
  const lines = [
    `${icon} ${s.state} · profile ${s.profile}`,
    `Entries: ${s.entriesEnabled ? 'enabled' : 'STOPPED'} · Kill switch: ${s.killSwitchActive ? 'ACTIVE' : 'off'}`,
    `Open orders: ${s.openOrders} · open positions: ${s.openPositions}`,
    `Breakers tripped: ${s.breakersTripped.length ? s.breakersTripped.join(', ') : 'none'}`,
  ];
  if (s.lastHeartbeat !== undefined) {
    lines.push(`Last heartbeat: ${Math.max(0, Math.round((now - s.lastHeartbeat) / 1000))} s ago`);
  }
  if (s.deployments.length) {
    lines.push('Deployments:');
    for (const d of s.deployments)
      lines.push(`• ${d.id}: ${d.strategy} on ${d.venue} [${d.symbols.join(', ')}] ${d.state}`);
  }
  return lines.join('\n');
}

/** `/profit` as text. */
export function formatProfit(p: ControlProfit): string {
  const winRate = p.closedTrades > 0 ? `${fmt((p.winningTrades / p.closedTrades) * 100, 1)} %` : 'n/a';
  const lines = [
    `💰 P&L (${p.currency})`,
    `Realised: ${signed(p.realisedPnl)} · unrealised: ${signed(p.unrealisedPnl)} · total: ${signed(p.realisedPnl + p.unrealisedPnl)}`,
    `Closed trades: ${p.closedTrades} · win rate: ${winRate}`,
  ];
  if (p.bestTrade !== undefined && p.worstTrade !== undefined) {
    lines.push(`Best trade: ${signed(p.bestTrade)} · worst: ${signed(p.worstTrade)}`);
  }
  return lines.join('\n');
}

/** `/balance` as text. */
export function formatBalance(b: ControlBalance): string {
  const lines = [`🏦 Equity: ${fmt(b.equity)} ${b.currency}`];
  for (const a of b.assets)
    lines.push(`• ${a.asset}: ${fmt(a.total, 8)} (free ${fmt(a.free, 8)}, in orders ${fmt(a.used, 8)})`);
  if (b.assets.length === 0) lines.push('No assets.');
  return lines.join('\n');
}

/** `/positions` as text. */
export function formatPositions(list: readonly ControlPosition[]): string {
  if (list.length === 0) return 'No open positions.';
  const lines = [`📊 ${list.length} open position${list.length > 1 ? 's' : ''}`];
  for (const p of list) {
    const mark = p.markPrice !== undefined ? ` → ${fmt(p.markPrice, 8)}` : '';
    const pnl = p.unrealisedPnl !== undefined ? ` · P&L ${signed(p.unrealisedPnl)}` : '';
    lines.push(`• [${p.id}] ${p.side} ${fmt(p.quantity, 8)} ${p.symbol} @ ${fmt(p.entryPrice, 8)}${mark}${pnl}`);
  }
  return lines.join('\n');
}

/** Result of a state-changing command as text. */
export function formatResult(command: string, r: ControlResult): string {
  const detail = r.detail
    ? `\n${Object.entries(r.detail)
        .map(([k, v]) => `${k}: ${v}`)
        .join(' · ')}`
    : '';
  return `${r.ok ? '✅' : '❌'} ${command}: ${r.message}${detail}`;
}
