import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { AuditKeyring, AuditLog } from '../store/audit-log.js';
import { listFiles, readTextFile, type SecretFinding, scanFiles, scanText } from './secret-scan.js';

/** Outcome of one preflight check. */
export interface PreflightCheck {
  id: string;
  title: string;
  status: 'pass' | 'fail' | 'warn' | 'skip';
  detail: string;
}

/** The folders of the platform's home that preflight scans (app/home.ts resolves them). */
export interface PreflightHome {
  root: string;
  database: string;
  data: string;
  logs: string;
}

/** What preflight inspects. */
export interface PreflightInput {
  home: PreflightHome;
  config: Config;
  /** The config file in use, scanned as text. */
  configFile?: string;
  /** Folder whose git repository is checked (default: cwd). */
  cwd: string;
  /** Plaintexts of the vault (when unlocked), searched for in files, config and logs. */
  vaultValues?: readonly string[];
  /** The audit log and its key (undefined key: chain checked without HMACs). */
  audit?: AuditLog;
  /** The vault's audit keys; without them only the hash chain is checked (a warning). */
  auditKey?: Buffer | AuditKeyring;
  /** How recent a log file must be to be scanned (default 7 days). */
  logMaxAgeMs?: number;
  now?: number;
}

function git(cwd: string, args: string[]): { code: number; out: string } {
  // A clean environment: git (and its hooks or pagers) never sees the unlock material or other secrets.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', LANG: 'C' };
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
  return { code: r.status ?? 1, out: r.stdout ?? '' };
}

function describe(findings: SecretFinding[]): string {
  const shown = findings.slice(0, 5).map((f) => `${f.file}:${f.line} (${f.kind})`);
  return `${findings.length} suspected secret${findings.length === 1 ? '' : 's'}: ${shown.join(', ')}${findings.length > 5 ? ', ...' : ''}`;
}

/** Runs every SEC-4 check; the caller prints them and exits non-zero when any failed. */
export async function runPreflight(input: PreflightInput): Promise<PreflightCheck[]> {
  const values = input.vaultValues ?? [];
  const checks: PreflightCheck[] = [];
  const now = input.now ?? Date.now();

  const top = git(input.cwd, ['rev-parse', '--show-toplevel']);
  const repo = top.code === 0 ? top.out.trim() : undefined;
  if (repo) {
    const files = git(repo, ['ls-files', '-co', '--exclude-standard', '-z']).out.split('\0').filter(Boolean);
    const findings = scanFiles(repo, files, values);
    checks.push({
      id: 'repo-secrets',
      title: 'no secrets in the repository',
      status: findings.length ? 'fail' : 'pass',
      detail: findings.length ? describe(findings) : `${files.length} files scanned in ${repo}`,
    });
    const ignored = git(repo, ['check-ignore', '-q', '--no-index', '.env']).code === 0;
    const tracked = git(repo, ['ls-files', '--error-unmatch', '.env']).code === 0;
    checks.push({
      id: 'env-ignored',
      title: '.env ignored by git',
      status: ignored && !tracked ? 'pass' : 'fail',
      detail: tracked
        ? '.env is committed to the repository'
        : ignored
          ? '.env is in .gitignore'
          : 'add .env to .gitignore',
    });
  } else {
    checks.push({
      id: 'repo-secrets',
      title: 'no secrets in the repository',
      status: 'skip',
      detail: `${input.cwd} is not in a git repository`,
    });
    checks.push({ id: 'env-ignored', title: '.env ignored by git', status: 'skip', detail: 'not a git repository' });
  }

  const homeRoot = input.home.root;
  const dbBase = input.home.database;
  const dataFiles = existsSync(homeRoot)
    ? listFiles(homeRoot, (rel) => {
        const full = join(homeRoot, rel);
        return full.startsWith(dbBase) || full.startsWith(input.home.data) || full.startsWith(input.home.logs);
      })
    : [];
  const dataFindings = scanFiles(homeRoot, dataFiles, values);
  checks.push({
    id: 'home-secrets',
    title: 'no secrets in the data directory',
    status: dataFindings.length ? 'fail' : 'pass',
    detail: dataFindings.length ? describe(dataFindings) : `${dataFiles.length} plain files scanned in ${homeRoot}`,
  });

  const configFindings: SecretFinding[] = [];
  if (input.configFile) {
    const text = readTextFile(input.configFile);
    if (text !== undefined) configFindings.push(...scanText(text, input.configFile, values));
  }
  configFindings.push(
    ...scanText(JSON.stringify(input.config, null, 1), 'resolved config (file + environment)', values),
  );
  checks.push({
    id: 'config-secrets',
    title: 'no secrets in the configuration',
    status: configFindings.length ? 'fail' : 'pass',
    detail: configFindings.length
      ? `${describe(configFindings)}; keep credentials in the vault (tradeforge secrets set NAME) and reference them by name`
      : 'credentials are referenced by vault name only',
  });

  const maxAge = input.logMaxAgeMs ?? 7 * 24 * 3600_000;
  const logFiles = existsSync(input.home.logs)
    ? listFiles(input.home.logs).filter((f) => now - statSync(join(input.home.logs, f)).mtimeMs <= maxAge)
    : [];
  const logFindings = scanFiles(input.home.logs, logFiles, values);
  checks.push({
    id: 'logs-clean',
    title: 'recent logs free of secrets',
    status: logFindings.length ? 'fail' : values.length === 0 && logFiles.length > 0 ? 'warn' : 'pass',
    detail: logFindings.length
      ? describe(logFindings)
      : `${logFiles.length} log files scanned${values.length === 0 ? ' (vault locked: only known key formats checked)' : ''}`,
  });

  const b = input.config.risk.breakers;
  const breakers = b
    ? Object.entries(b)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k)
    : [];
  const hasLossBreaker = breakers.some((k) => k === 'dailyLoss' || k === 'maxDrawdown' || k === 'emergencyLoss');
  checks.push({
    id: 'breakers',
    title: 'circuit breakers configured',
    status: hasLossBreaker ? 'pass' : 'fail',
    detail: hasLossBreaker
      ? `configured: ${breakers.join(', ')}`
      : 'set risk.breakers.dailyLoss, maxDrawdown or emergencyLoss before trading live',
  });

  const a = input.config.alerts;
  const channels = (['telegram', 'discord', 'email'] as const).filter((k) => a[k] !== undefined);
  checks.push({
    id: 'alerts',
    title: 'alerts configured',
    status: channels.length ? 'pass' : 'fail',
    detail: channels.length
      ? `channels: ${channels.join(', ')}`
      : 'configure alerts.telegram, alerts.discord or alerts.email',
  });

  if (input.audit) {
    const r = await input.audit.verify(input.auditKey, { hashOnly: input.auditKey === undefined });
    checks.push({
      id: 'audit-chain',
      title: 'audit chain valid',
      status: r.ok ? (r.hmacChecked ? 'pass' : 'warn') : 'fail',
      detail: r.ok
        ? `${r.checked} records verified${r.hmacChecked ? ' (hash chain and HMAC)' : ' (hash chain only: unlock the vault to check HMACs)'}`
        : (r.firstBad?.problem ?? 'broken'),
    });
  }

  checks.push({
    id: 'key-permissions',
    title: 'exchange keys without withdrawal permission',
    status: 'skip',
    detail: 'checked by venue adapters that can read key permissions',
  });
  return checks;
}
