import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A suspected secret in a file (never the secret itself: the kind and where). */
export interface SecretFinding {
  file: string;
  line: number;
  kind: string;
}

interface Pattern {
  kind: string;
  re: RegExp;
  /** Generic patterns are skipped in test files, whose fixtures are fake credentials by design. */
  generic?: boolean;
}

const PATTERNS: Pattern[] = [
  { kind: 'private key', re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY-----/ },
  { kind: 'AWS access key', re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: 'OpenAI/Anthropic API key', re: /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{32,}/ },
  { kind: 'Telegram bot token', re: /\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b/ },
  { kind: 'GitHub token', re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { kind: 'Slack token', re: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { kind: 'Discord webhook', re: /discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]{30,}/ },
  { kind: 'URL with password', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:[^\s@'"*]{6,}@/ },
  {
    kind: 'credential assignment',
    re: /\b(?:api[_-]?key|api[_-]?secret|secret[_-]?key|client[_-]?secret|password|passphrase|access[_-]?token|auth[_-]?token)\b["']?\s*[:=]\s*["']?(?=[A-Za-z0-9/+_-]*\d)(?=[A-Za-z0-9/+_-]*[A-Za-z])[A-Za-z0-9/+_-]{20,}/i,
    generic: true,
  },
];

/** Finds known secret patterns and any of `values` (vault plaintexts) in a text. */
export function scanText(text: string, file: string, values: readonly string[] = [], isTest = false): SecretFinding[] {
  const out: SecretFinding[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.length > 20_000) continue;
    for (const p of PATTERNS) {
      if (p.generic && isTest) continue;
      if (p.re.test(line)) out.push({ file, line: i + 1, kind: p.kind });
    }
    for (const v of values)
      if (v.length >= 4 && line.includes(v)) out.push({ file, line: i + 1, kind: 'a value stored in the vault' });
  }
  return out;
}

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', '.cache']);
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** True for paths whose fixtures are fake by design (test folders and *.test.* files). */
export function isTestPath(path: string): boolean {
  return /(^|\/)(test|tests|__tests__|fixtures)\//.test(path) || /\.test\.[a-z]+$/.test(path);
}

/** Reads a file as text, or undefined when it is large or binary. */
export function readTextFile(path: string): string | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > MAX_FILE_BYTES) return undefined;
  const buf = readFileSync(path);
  if (buf.subarray(0, 8000).includes(0)) return undefined;
  return buf.toString('utf8');
}

/** Scans files (paths relative to `root`). */
export function scanFiles(root: string, files: readonly string[], values: readonly string[] = []): SecretFinding[] {
  const out: SecretFinding[] = [];
  for (const f of files) {
    const text = readTextFile(join(root, f));
    if (text !== undefined) out.push(...scanText(text, f, values, isTestPath(f)));
  }
  return out;
}

/** Lists plain files under a folder, skipping dependency/VCS folders and any `exclude` predicate. */
export function listFiles(root: string, exclude: (rel: string) => boolean = () => false, maxFiles = 20_000): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= maxFiles) return;
      const full = join(dir, e.name);
      const rel = relative(root, full);
      if (exclude(rel)) continue;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(full);
      } else if (e.isFile()) out.push(rel);
    }
  };
  walk(root);
  return out;
}
