import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { allowedHostSet, hostName, IpAllowList, normaliseOrigin, originAllowed } from './guards.js';

describe('IP allow-list', () => {
  it('allows everyone when empty, and only listed addresses and ranges otherwise (loopback always)', () => {
    expect(new IpAllowList([]).allows('203.0.113.9')).toBe(true);
    const list = new IpAllowList(['10.0.0.0/8', '192.168.1.20', '2001:db8::/32']);
    expect(list.allows('10.200.3.4')).toBe(true);
    expect(list.allows('::ffff:10.1.1.1')).toBe(true);
    expect(list.allows('192.168.1.20')).toBe(true);
    expect(list.allows('192.168.1.21')).toBe(false);
    expect(list.allows('2001:db8::5')).toBe(true);
    expect(list.allows('2001:db9::5')).toBe(false);
    expect(list.allows('127.0.0.1')).toBe(true);
    expect(list.allows('::1')).toBe(true);
  });
  it('names the bad entry', () => {
    expect(() => new IpAllowList(['10.0.0.0/8', '10.0.0.0/33'])).toThrow(ConfigError);
    expect(() => new IpAllowList(['10.0.0.0/8', 'my-laptop'])).toThrow(/server\.ipAllowList\.1.*"my-laptop"/);
  });
});

describe('Host and Origin checks', () => {
  it('accepts loopback, the bind address and configured names only', () => {
    const hosts = allowedHostSet('0.0.0.0', ['Trade.Example.com']);
    expect(hosts.has(hostName('localhost:8080'))).toBe(true);
    expect(hosts.has(hostName('[::1]:8080'))).toBe(true);
    expect(hosts.has(hostName('trade.example.com'))).toBe(true);
    expect(hosts.has(hostName('0.0.0.0:8080'))).toBe(false);
    expect(hosts.has(hostName('evil.example:8080'))).toBe(false);
    expect(allowedHostSet('192.168.1.5', []).has('192.168.1.5')).toBe(true);
  });
  it('allows same-origin and allow-listed origins only', () => {
    const list = new Set([normaliseOrigin('https://dash.example.com/', 0)]);
    expect(originAllowed('https://dash.example.com', 'api.example.com', list)).toBe(true);
    expect(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', list)).toBe(true);
    expect(originAllowed('http://127.0.0.1:9999', '127.0.0.1:8080', list)).toBe(false);
    expect(originAllowed('null', '127.0.0.1:8080', list)).toBe(false);
    expect(() => normaliseOrigin('dash.example.com', 3)).toThrow(/server\.corsOrigins\.3/);
  });
});
