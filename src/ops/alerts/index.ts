export { type Alert, type AlertChannel, formatAlertText } from './alert.js';
export { DiscordChannel, type DiscordChannelOptions } from './discord-channel.js';
export { EmailChannel, type EmailChannelOptions } from './email-channel.js';
export { ALERTING_EVENTS, alertFromEvent, subscribeAlerts } from './from-events.js';
export {
  type AlertOutcome,
  AlertRouter,
  type AlertRouterOptions,
  type ChannelOutcome,
  type ChannelStats,
} from './router.js';
export { TelegramChannel, type TelegramChannelOptions } from './telegram-channel.js';
