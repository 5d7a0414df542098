import type { Command } from 'commander';

/** Registers `tradeforge status`: the running runtime's state, or what the store knows when it is down. */
export function register(program: Command): void {
  program
    .command('status')
    .description('positions, orders, recent fills, breakers and heartbeat of the runtime (from the store when down)')
    .option('--json', 'print JSON (for scripts)')
    .action(async (opts: { json?: boolean }) => {
      const { resolveHome } = await import('../../app/home.js');
      const { currentStatus } = await import('../../app/store-status.js');
      const status = await currentStatus(resolveHome());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const out = (s: string) => process.stdout.write(`${s}\n`);
      const t = (ms: number | null) => (ms ? new Date(ms).toISOString() : 'never');
      out(
        status.source === 'runtime'
          ? `runtime: ${status.state} (${status.profile}) pid ${status.pid}, API ${status.url}`
          : 'runtime: not running (figures from the store)',
      );
      out(
        `entries: ${status.entriesEnabled ? 'enabled' : 'stopped'}   kill switch: ${status.killSwitchActive ? 'ACTIVE' : 'off'}   heartbeat: ${t(status.heartbeat.lastAt)}`,
      );
      for (const d of status.deployments) {
        out(
          `deployment ${d.id}: ${d.strategy} on ${d.venue} ${d.symbols.join(',')} (${d.mode}) equity ${d.equity.toFixed(2)} realised ${d.realizedPnl.toFixed(2)} unrealised ${d.unrealizedPnl.toFixed(2)}${d.fundingPnl ? ` (funding ${d.fundingPnl.toFixed(2)})` : ''}${d.stale.length ? ` STALE ${d.stale.join(',')}` : ''}`,
        );
      }
      out(`positions (${status.positions.length}):`);
      for (const p of status.positions)
        out(`  ${p.deployment} ${p.symbol} ${p.quantity} @ ${p.averagePrice.toFixed(2)} (last ${p.last})`);
      out(`open orders (${status.openOrders.length}):`);
      for (const o of status.openOrders)
        out(
          `  ${o.clientOrderId} ${o.side} ${o.quantity} ${o.symbol} ${o.type}${o.stopPrice ? ` stop ${o.stopPrice}` : ''} ${o.status}${o.tag ? ` [${o.tag}]` : ''}`,
        );
      out(`recent fills (${status.recentFills.length}):`);
      for (const f of status.recentFills.slice(-10))
        out(`  ${new Date(f.time).toISOString()} ${f.side} ${f.quantity} ${f.symbol} @ ${f.price}`);
      const active = status.breakers.flatMap((b) => b.active.map((a) => `${b.deployment}:${a.breaker}`));
      out(`breakers: ${active.length ? active.join(', ') : 'none tripped'}`);
      const pf = status.propFirm;
      if (pf) {
        const limits = pf.limits.map((l) => `${l.limit} floor ${l.floor.toFixed(2)} (${l.distance.toFixed(2)} away)`);
        out(`prop firm ${pf.ruleSet}: ${pf.state}, day ${pf.day}, ${limits.join(', ')}`);
      }
    });
}
