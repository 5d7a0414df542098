import { describe, expect, it } from 'vitest';
import { applyEnvOverrides, resolveConfig } from './config.js';
import { ConfigError } from './errors.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('fills defaults from an empty file', () => {
    const c = resolveConfig({});
    expect(c.profile).toBe('dev');
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 8080, corsOrigins: [] });
    expect(c.log.level).toBe('info');
    expect(c.risk).toEqual({});
    expect(c.venues).toEqual([]);
    expect(resolveConfig(undefined).server.port).toBe(8080);
  });

  it('applies TRADEFORGE__SECTION__KEY overrides over the file, mapping SNAKE_CASE to camelCase', () => {
    const c = resolveConfig(
      { server: { port: 1234, host: '0.0.0.0' }, risk: { maxOrderNotional: 100 } },
      {
        TRADEFORGE__SERVER__PORT: '9000',
        TRADEFORGE__RISK__MAX_ORDER_NOTIONAL: '5',
        TRADEFORGE__RISK__BREAKERS__DAILY_LOSS: '0.03',
        TRADEFORGE__SERVER__CORS_ORIGINS: '["http://a","http://b"]',
        TRADEFORGE__LOG__LEVEL: 'debug',
        UNRELATED: 'x',
      },
    );
    expect(c.server.port).toBe(9000);
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.risk.maxOrderNotional).toBe(5);
    expect(c.risk.breakers?.dailyLoss).toBe(0.03);
    expect(c.server.corsOrigins).toEqual(['http://a', 'http://b']);
    expect(c.log.level).toBe('debug');
  });

  it('does not mutate the file object', () => {
    const raw = { server: { port: 1 } };
    applyEnvOverrides(raw, { TRADEFORGE__SERVER__PORT: '2' });
    expect(raw.server.port).toBe(1);
  });

  it('a bad env value names the key and the variable', () => {
    const e = configError(() => resolveConfig({}, { TRADEFORGE__SERVER__PORT: 'abc' }));
    expect(e.key).toBe('server.port');
    expect(e.message).toMatch(
      /^config server\.port: .*expected number.*\(from environment variable TRADEFORGE__SERVER__PORT\)$/,
    );
    const neg = configError(() => resolveConfig({}, { TRADEFORGE__RISK__MAX_ORDER_NOTIONAL: '-5' }));
    expect(neg.key).toBe('risk.maxOrderNotional');
    expect(neg.message).toContain('TRADEFORGE__RISK__MAX_ORDER_NOTIONAL');
    const port = configError(() => resolveConfig({}, { TRADEFORGE__SERVER__PORT: '70000' }));
    expect(port.key).toBe('server.port');
  });

  it('an unknown env key is named with its section and variable', () => {
    const e = configError(() => resolveConfig({}, { TRADEFORGE__SERVER__PROT: '1' }));
    expect(e.key).toBe('server.prot');
    expect(e.message).toBe(
      'config server.prot: unknown key "PROT" in server (from environment variable TRADEFORGE__SERVER__PROT)',
    );
    const top = configError(() => resolveConfig({}, { TRADEFORGE__NOPE: '1' }));
    expect(top.message).toContain('unknown key "NOPE" in the top level');
  });

  it('unknown keys in the file are named, with the file', () => {
    const e = configError(() => resolveConfig({ server: { port: 1, extra: 2 } }, {}, 'tradeforge.yaml'));
    expect(e.key).toBe('server');
    expect(e.message).toBe('config server: unknown key "extra" (in tradeforge.yaml)');
    const top = configError(() => resolveConfig({ zzz: 1 }, {}, 'c.json'));
    expect(top.message).toContain('unknown key "zzz"');
  });

  it('a bad file value names the dotted path', () => {
    const e = configError(() => resolveConfig({ risk: { breakers: { dailyLoss: 2 } } }, {}, 'c.yaml'));
    expect(e.key).toBe('risk.breakers.dailyLoss');
    expect(e.message).toMatch(/^config risk\.breakers\.dailyLoss: .*\(in c\.yaml\)$/);
    const enumErr = configError(() => resolveConfig({ profile: 'prod' }));
    expect(enumErr.key).toBe('profile');
  });

  it('rejects a non-object top level', () => {
    expect(configError(() => resolveConfig([], {}, 'c.yaml')).message).toBe(
      'c.yaml must hold an object at the top level',
    );
    expect(configError(() => resolveConfig(42)).message).toBe('config must hold an object at the top level');
  });
});

describe('approvedStrategies (replaced by the promotion pipeline)', () => {
  it('is refused with a migration message, even when empty: an accepted key would do nothing', () => {
    for (const value of [['sma-cross'], []]) {
      const e = configError(() => resolveConfig({ approvedStrategies: value }));
      expect(e.message).toMatch(/approvedStrategies: "approvedStrategies" was removed: the live profile runs only/);
      expect(e.message).toContain('docs/promotion.md');
    }
    expect(resolveConfig({}).approvedStrategies).toBeUndefined();
  });
});
