/** Replacement written in place of a secret. */
export const REDACTED = '[REDACTED]';

// Field names whose values are secrets whatever they hold. Conservative: a false positive only hides a log value.
const SECRET_KEY =
  /pass(word|phrase)?|secret|token|api[-_]?key|apikey|private[-_]?key|authori[sz]ation|cookie|signature|credential|webhook|session|mnemonic|seed/i;

// Secrets that show up inside free text (messages, URLs, error strings).
const SECRET_TEXT: readonly [RegExp, string][] = [
  [/(?<![0-9])\d{6,12}:[A-Za-z0-9_-]{30,}/g, REDACTED], // Telegram bot token (also inside `/bot<token>/`)
  [/(discord(?:app)?\.com\/api\/webhooks\/\d+\/)[A-Za-z0-9_-]+/gi, `$1${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`],
  [/([?&](?:api[-_]?key|key|token|secret|signature|password)=)[^&\s"]+/gi, `$1${REDACTED}`],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, `$1${REDACTED}@`], // user:password@host in URLs
];

// One cheap pass that finds whether any SECRET_TEXT shape may be present; most log text has none.
const MAYBE_SECRET =
  /\d{6,12}:[A-Za-z0-9_-]{30}|webhooks\/\d|(?:Bearer|Basic)\s|[?&](?:api[-_]?key|key|token|secret|signature|password)=|\/\/[^/\s:@]+:[^@\s/]+@/i;

const keyVerdicts = new Map<string, boolean>();

function isSecretKey(key: string): boolean {
  let v = keyVerdicts.get(key);
  if (v === undefined) {
    v = SECRET_KEY.test(key);
    // Field names are a small, fixed vocabulary; the cap only guards against keys built from data.
    if (keyVerdicts.size < 10_000) keyVerdicts.set(key, v);
  }
  return v;
}

/** Masks known secret shapes inside a string. */
export function redactText(text: string): string {
  if (text.length < 12 || !MAYBE_SECRET.test(text)) return text;
  let out = text;
  for (const [re, replacement] of SECRET_TEXT) out = out.replace(re, replacement);
  return out;
}

/**
 * The built-in redactor used when the runtime injects none: masks values under secret-looking field names
 * (any depth) and secret-looking substrings in strings. Returns a copy; never mutates its input.
 */
export function defaultRedact(value: unknown): unknown {
  return walk(value, new WeakSet<object>(), 0);
}

function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > 10) return '[Depth]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: redactText(value.message),
      stack: value.stack === undefined ? undefined : redactText(value.stack),
    };
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) ? REDACTED : walk(v, seen, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => walk(v, seen, depth + 1));
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : walk(v, seen, depth + 1);
  }
  return out;
}
