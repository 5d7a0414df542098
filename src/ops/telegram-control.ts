import { Bot } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { EventBus } from '../core/events.js';
import { formatBalance, formatPositions, formatProfit, formatResult, formatStatus } from './control-format.js';
import type { ControlApi } from './control-port.js';

/** One audited command attempt (authorised or not). */
export interface ControlAuditEntry {
  actor: string;
  chatId: number;
  command: string;
  args: string;
  authorised: boolean;
  /** `ok`, `refused`, `failed` or `unknown_command`. */
  outcome: 'ok' | 'refused' | 'failed' | 'unknown_command';
  message?: string;
}

/** Minimal logger surface (a pino logger fits). */
export interface ControlLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Options of {@link TelegramControl}. The token comes from the vault via the runtime. */
export interface TelegramControlOptions {
  token: string;
  /** Only these chats may command the bot (config `alerts.telegram.chatIds`). Empty = nobody. */
  allowedChatIds: readonly (number | string)[];
  control: ControlApi;
  /** Bot API root (tests: the local fake). */
  apiRoot?: string;
  /** Skips `getMe` at start (offline/test use, as STACK.md suggests). */
  botInfo?: UserFromGetMe;
  /** Publishes an `alert.raised.v1` warning on unauthorised attempts. */
  bus?: EventBus;
  /** Records every attempt (the store's audit log). */
  audit?: (entry: ControlAuditEntry) => void | Promise<void>;
  logger?: ControlLogger;
  /** Long-polling timeout per getUpdates call, seconds; default 30. */
  pollTimeoutSeconds?: number;
}

/** Commands and their help lines, in help order. */
export const TELEGRAM_COMMANDS: readonly { command: string; description: string }[] = [
  { command: 'status', description: 'runtime state, deployments, breakers, heartbeat' },
  { command: 'profit', description: 'realised and unrealised P&L' },
  { command: 'balance', description: 'account balances' },
  { command: 'positions', description: 'open positions with their ids' },
  { command: 'stopentry', description: 'stop opening new positions (exits keep running)' },
  { command: 'startentry', description: 'allow new entries again' },
  { command: 'pause', description: 'pause a grid: /pause ID|all (its resting orders cancelled, inventory kept)' },
  { command: 'resume', description: 'resume a paused grid: /resume ID|all (its resting orders placed again)' },
  { command: 'forceexit', description: '/forceexit ID|all: close a position (or all) now' },
  { command: 'kill', description: 'KILL SWITCH: cancel all orders, close all positions, halt' },
  { command: 'recover', description: 'release the kill switch' },
  { command: 'help', description: 'this list' },
];

/**
 * Telegram control bot (OPS-4): long-polls the Bot API with grammy and maps commands to {@link ControlApi}, for
 * authorised chat ids only. Every attempt is audited; unauthorised ones are refused and raise an alert.
 */
export class TelegramControl {
  /** The grammy bot (exposed so the runtime can share its `api` with the alert channel). */
  readonly bot: Bot;
  private readonly allowed: ReadonlySet<string>;
  private running: Promise<void> | undefined;

  constructor(private readonly options: TelegramControlOptions) {
    this.allowed = new Set(options.allowedChatIds.map(String));
    this.bot = new Bot(options.token, {
      botInfo: options.botInfo,
      client: options.apiRoot ? { apiRoot: options.apiRoot } : undefined,
    });
    this.bot.on('message:text', async (ctx) => {
      const reply = await this.handle(ctx.chat.id, ctx.message.text, ctx.from?.username);
      if (reply !== undefined) await ctx.reply(reply, { link_preview_options: { is_disabled: true } });
    });
    this.bot.catch((err) => {
      this.options.logger?.error({ err: err.error }, 'telegram control handler failed');
    });
  }

  /** Starts long polling; resolves once polling runs. Rejects when the Bot API refuses (e.g. a wrong token). */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let started = false;
      this.running = this.bot
        .start({
          timeout: this.options.pollTimeoutSeconds ?? 30,
          allowed_updates: ['message'],
          onStart: () => {
            started = true;
            resolve();
          },
        })
        .catch((err: unknown) => {
          this.options.logger?.error({ err }, 'telegram polling stopped');
          if (!started) reject(err);
        });
    });
  }

  /** Stops polling and waits for the loop to end. */
  async stop(): Promise<void> {
    if (this.bot.isRunning()) await this.bot.stop();
    await this.running;
    this.running = undefined;
  }

  /**
   * Handles one text message: returns the reply, or undefined for non-command chatter from an authorised chat.
   * Public so the command path can be exercised without Telegram.
   */
  async handle(chatId: number, text: string, username?: string): Promise<string | undefined> {
    const parsed = this.parse(text);
    if (!parsed) return undefined;
    const { command, args } = parsed;
    const actor = `telegram:${chatId}${username ? `@${username}` : ''}`;
    if (!this.allowed.has(String(chatId))) {
      await this.record({ actor, chatId, command, args, authorised: false, outcome: 'refused' });
      this.options.logger?.warn({ chatId, command }, 'unauthorised telegram command refused');
      this.options.bus?.publish({
        name: 'alert.raised.v1',
        time: Date.now(),
        correlationId: `telegram-${chatId}-${Date.now()}`,
        source: 'ops:telegram-control',
        payload: {
          severity: 'warning',
          title: 'Unauthorised Telegram command',
          message: `Chat ${chatId}${username ? ` (@${username})` : ''} tried /${command}; refused.`,
          key: `telegram.unauthorised:${chatId}`,
        },
      });
      return '⛔ This chat is not authorised to control tradeforge. The attempt has been logged.';
    }
    try {
      const reply = await this.run(command, args, actor);
      await this.record({
        actor,
        chatId,
        command,
        args,
        authorised: true,
        outcome: reply.outcome,
        message: reply.text.slice(0, 500),
      });
      return reply.text;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.logger?.error({ err, command, chatId }, 'telegram command failed');
      await this.record({ actor, chatId, command, args, authorised: true, outcome: 'failed', message });
      return `❌ /${command} failed: ${message}`;
    }
  }

  private parse(text: string): { command: string; args: string } | undefined {
    const m = /^\/([a-zA-Z_]+)(?:@(\w+))?(?:\s+([\s\S]*))?$/.exec(text.trim());
    if (!m) return undefined;
    // In groups a command may be addressed to another bot: `/status@otherbot`.
    if (m[2] && this.bot.isInited() && m[2].toLowerCase() !== this.bot.botInfo.username.toLowerCase()) return undefined;
    return { command: m[1].toLowerCase(), args: (m[3] ?? '').trim() };
  }

  private async run(
    command: string,
    args: string,
    actor: string,
  ): Promise<{ text: string; outcome: ControlAuditEntry['outcome'] }> {
    const c = this.options.control;
    const ok = (text: string) => ({ text, outcome: 'ok' as const });
    const result = (name: string, r: Awaited<ReturnType<ControlApi['kill']>>) => ({
      text: formatResult(name, r),
      outcome: r.ok ? ('ok' as const) : ('refused' as const),
    });
    switch (command) {
      case 'status':
        return ok(formatStatus(await c.status()));
      case 'profit':
        return ok(formatProfit(await c.profit()));
      case 'balance':
        return ok(formatBalance(await c.balance()));
      case 'positions':
        return ok(formatPositions(await c.positions()));
      case 'stopentry':
        return result('stopentry', await c.stopEntries(actor));
      case 'startentry':
        return result('startentry', await c.startEntries(actor));
      case 'pause':
      case 'resume': {
        const target = args.split(/\s+/)[0] || 'all';
        const fn = command === 'pause' ? c.pause : c.resume;
        if (!fn) return { text: `/${command} is not available`, outcome: 'refused' };
        return result(command, await fn.call(c, target.toLowerCase() === 'all' ? 'all' : target, actor));
      }
      case 'forceexit': {
        const target = args.split(/\s+/)[0] ?? '';
        if (!target) return { text: 'Usage: /forceexit ID|all (see /positions for ids)', outcome: 'refused' };
        return result('forceexit', await c.forceExit(target.toLowerCase() === 'all' ? 'all' : target, actor));
      }
      case 'kill':
        return result('kill', await c.kill(actor));
      case 'recover':
        return result('recover', await c.recover(actor));
      case 'help':
      case 'start':
        return ok(TELEGRAM_COMMANDS.map((x) => `/${x.command} — ${x.description}`).join('\n'));
      default:
        return { text: `Unknown command /${command}. Send /help for the list.`, outcome: 'unknown_command' };
    }
  }

  private async record(entry: ControlAuditEntry): Promise<void> {
    try {
      await this.options.audit?.(entry);
    } catch (err) {
      this.options.logger?.error({ err }, 'telegram control audit failed');
    }
  }
}
