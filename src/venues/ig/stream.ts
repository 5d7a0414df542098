/**
 * IG's streaming API: Lightstreamer, through Lightstreamer's own Node client. The stream logs in with the account
 * id and the session's `CST-…|XST-…` (an OAuth session fetches those first), holds at most IG's 40 subscriptions,
 * and logs in anew when IG ends the session (the weekend invalidation). The venue treats the stream as the fast
 * path and keeps REST polling behind it: `live` says whether updates are flowing now.
 */
import { createRequire } from 'node:module';
import type * as LightstreamerModule from 'lightstreamer-client-node';
import { VenueError } from '../../core/errors.js';

let loaded: typeof LightstreamerModule | undefined;

/**
 * Lightstreamer's Node client, loaded on first use. It ships as one CommonJS bundle whose exports Node's ESM loader
 * cannot list (so: require), and loading it starts a 50 ms scheduler interval that would keep every process that
 * merely imports this module alive (a CLI command never exiting): that interval is made not to hold the process.
 */
function lightstreamer(): typeof LightstreamerModule {
  if (loaded) return loaded;
  const setIntervalOf = globalThis.setInterval;
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) =>
    setIntervalOf(...args).unref()) as typeof setInterval;
  try {
    loaded = createRequire(import.meta.url)('lightstreamer-client-node') as typeof LightstreamerModule;
  } finally {
    globalThis.setInterval = setIntervalOf;
  }
  return loaded;
}

/** IG's limit on subscriptions of one streaming session. */
export const IG_MAX_SUBSCRIPTIONS = 40;

/** Where and as whom the stream logs in. */
export interface IgStreamLogin {
  /** The session's `lightstreamerEndpoint`. */
  endpoint: string;
  /** The account id. */
  user: string;
  /** `CST-{cst}|XST-{x-security-token}`. */
  password: string;
}

/** One item update: the item's name and the values of the fields asked for (null where IG sent none). */
export type IgStreamUpdate = (item: string, values: Readonly<Record<string, string | null>>) => void;

/** A subscription held on the stream. */
export interface IgStreamSubscription {
  /** True while this item's updates flow: the stream is connected and the server confirmed the subscription. */
  readonly active: boolean;
  close(): void;
}

/** One streaming connection to IG for one account. */
export class IgStream {
  private client: LightstreamerModule.LightstreamerClient | undefined;
  private status = 'DISCONNECTED';
  private readonly held = new Set<LightstreamerModule.Subscription>();
  private relogin: Promise<void> | undefined;
  private closed = false;

  /** `login()` gives fresh credentials (it is called again when IG ends the session). */
  constructor(
    private readonly login: () => Promise<IgStreamLogin>,
    private readonly onStatus: (status: string, detail?: string) => void = () => {},
  ) {}

  /**
   * True while the stream delivers updates: a streaming transport is connected and every subscription is active at
   * the server (an update before that is not delivered, so polling must not slow down yet).
   */
  get live(): boolean {
    if (!this.connected) return false;
    for (const sub of this.held) if (!sub.isSubscribed()) return false;
    return true;
  }

  /** True while a streaming transport is connected (subscriptions may still be on their way). */
  get connected(): boolean {
    return this.status.startsWith('CONNECTED:') && this.status.endsWith('STREAMING');
  }

  /** Subscriptions held now. */
  get size(): number {
    return this.held.size;
  }

  /** Connects (once; later calls are no-ops while connected or connecting). */
  async connect(): Promise<void> {
    if (this.client || this.closed) return;
    const who = await this.login();
    const client = new (lightstreamer().LightstreamerClient)(who.endpoint, 'DEFAULT');
    client.connectionDetails.setUser(who.user);
    client.connectionDetails.setPassword(who.password);
    client.addListener({
      onStatusChange: (s: string) => {
        // A client replaced after IG ended its session still reports its own end: that is not this stream's state.
        if (this.client !== client) return;
        this.status = s;
        this.onStatus(s);
      },
      // IG refused the login (an expired session, the weekend): log in again with fresh tokens.
      onServerError: (code: number, message: string) => {
        this.onStatus('ERROR', `${code} ${message}`);
        if (!this.closed) void this.reconnect();
      },
    });
    this.client = client;
    for (const sub of this.held) client.subscribe(sub);
    client.connect();
  }

  /**
   * Subscribes `fields` of `items` (e.g. `MARKET:{epic}`, `TRADE:{accountId}`); refuses past IG's 40. `onUpdate`
   * gets every update with every asked field's current value; `onActive` runs each time the subscription becomes
   * active at the server (first, and after every reconnect): what happened before it was not streamed.
   */
  subscribe(
    mode: 'MERGE' | 'DISTINCT',
    items: readonly string[],
    fields: readonly string[],
    onUpdate: IgStreamUpdate,
    onActive?: () => void,
  ): IgStreamSubscription {
    if (this.held.size >= IG_MAX_SUBSCRIPTIONS)
      throw new VenueError(`ig: IG allows ${IG_MAX_SUBSCRIPTIONS} streaming subscriptions; all are in use`, {
        retryable: false,
        venue: 'ig',
        code: 'VENUE_LIMIT',
      });
    const sub = new (lightstreamer().Subscription)(mode, [...items], [...fields]);
    const isActive = () => this.connected && sub.isSubscribed();
    if (mode === 'MERGE') sub.setRequestedSnapshot('yes');
    sub.addListener({
      onItemUpdate: (u: LightstreamerModule.ItemUpdate) => {
        const values: Record<string, string | null> = {};
        for (const f of fields) values[f] = u.getValue(f);
        onUpdate(u.getItemName(), values);
      },
      onSubscription: () => onActive?.(),
    });
    this.held.add(sub);
    this.client?.subscribe(sub);
    return {
      get active() {
        return isActive();
      },
      close: () => {
        if (!this.held.delete(sub)) return;
        if (this.client && sub.isActive()) this.client.unsubscribe(sub);
      },
    };
  }

  /** Disconnects for good. */
  close(): void {
    this.closed = true;
    this.held.clear();
    this.client?.disconnect();
    this.client = undefined;
    this.status = 'DISCONNECTED';
  }

  private reconnect(): Promise<void> {
    this.relogin ??= (async () => {
      const old = this.client;
      this.client = undefined;
      this.status = 'DISCONNECTED';
      if (old) {
        for (const sub of this.held) if (sub.isActive() || sub.isSubscribed()) old.unsubscribe(sub);
        old.disconnect();
      }
      try {
        await this.connect();
      } catch (err) {
        this.onStatus('ERROR', err instanceof Error ? err.message : String(err));
      } finally {
        this.relogin = undefined;
      }
    })();
    return this.relogin;
  }
}
