/** Request guards that run before authentication: Host header (DNS rebinding), Origin (CORS/CSRF), IP allow-list. */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../../core/errors.js';

/** Host names every API accepts: the loopback names. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** The host name of a Host header or URL authority, lower-case, without the port. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * The Host names the API answers to: loopback, the bind address when it is a specific one, and the configured
 * names. A request naming any other host is refused, so a page on a rebound DNS name cannot read the API.
 */
export function allowedHostSet(bindHost: string, configured: readonly string[]): Set<string> {
  const set = new Set(LOOPBACK_HOSTS);
  const bind = bindHost.toLowerCase();
  if (bind !== '0.0.0.0' && bind !== '::') set.add(isIP(bind) === 6 ? `[${bind}]` : bind);
  for (const h of configured) set.add(hostName(h));
  return set;
}

/** Normalises a CORS allow-list entry to `scheme://host[:port]`; throws ConfigError naming the entry. */
export function normaliseOrigin(origin: string, index: number): string {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u.origin;
  } catch {
    throw new ConfigError(`server.corsOrigins.${index}`, `"${origin}" is not an origin like https://trade.example.com`);
  }
}

/** Whether a request's Origin is acceptable: same origin as the Host it was sent to, or on the allow-list. */
export function originAllowed(origin: string, host: string | undefined, allowList: ReadonlySet<string>): boolean {
  if (allowList.has(origin)) return true;
  try {
    const u = new URL(origin);
    return host !== undefined && (u.protocol === 'http:' || u.protocol === 'https:') && u.host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** The IP allow-list (config `server.ipAllowList`: addresses or CIDR ranges); loopback is always allowed. */
export class IpAllowList {
  private readonly list = new BlockList();
  readonly enabled: boolean;

  constructor(entries: readonly string[]) {
    this.enabled = entries.length > 0;
    entries.forEach((entry, i) => {
      const [addr, bits] = entry.split('/');
      const family = isIP(addr);
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = family === 6 ? 128 : 32;
      if (
        family === 0 ||
        (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max || bits === ''))
      ) {
        throw new ConfigError(`server.ipAllowList.${i}`, `"${entry}" is not an IP address or CIDR range`);
      }
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, prefix, type);
    });
  }

  /** True when the address may use the API. */
  allows(ip: string): boolean {
    const addr = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
    if (addr === '127.0.0.1' || addr === '::1') return true;
    if (!this.enabled) return true;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }
}
