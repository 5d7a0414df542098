/** The mask that replaces a secret. */
export const REDACTED = '[REDACTED]';

// Field names whose values are secrets wherever they appear (compared lower-case, without `_`/`-`).
const SECRET_FIELD_PARTS = [
  'apikey',
  'apisecret',
  'secret',
  'password',
  'passwd',
  'passphrase',
  'token',
  'privatekey',
  'authorization',
  'cookie',
  'setcookie',
  'credential',
  'masterkey',
  'sessionkey',
  'accesskey',
  'clientsecret',
  'signature',
  'totp',
  'otpcode',
  'mnemonic',
  'seedphrase',
];
// Prefixes that also mark a secret (`passwordHash`, `secretKey`).
const SECRET_PREFIXES = ['password', 'secret', 'apikey', 'privatekey', 'passphrase', 'token'];
// Field names that contain a secret word but are not secrets (the *name* of a vault entry, token counts ...).
const SAFE_FIELDS = new Set([
  'secrets',
  'tokensecret',
  'webhooksecret',
  'passwordsecret',
  'tokens',
  'tokencount',
  'maxtokens',
  'inputtokens',
  'outputtokens',
  'totaltokens',
  'secretname',
  'apikeysecret',
]);

/** True when a field of this name holds a secret value. */
export function isSecretField(name: string): boolean {
  const n = name.toLowerCase().replace(/[_\-\s]/g, '');
  if (SAFE_FIELDS.has(n)) return false;
  for (const part of SECRET_FIELD_PARTS) if (n.endsWith(part)) return true;
  for (const p of SECRET_PREFIXES) if (n.startsWith(p)) return true;
  return false;
}

/**
 * Masks secrets: values of known secret fields (deeply, in objects and arrays) and every occurrence of a value that
 * was registered (the vault registers each plaintext it hands out). Returns a copy; never mutates its input.
 */
export class Redactor {
  private readonly values = new Set<string>();
  private sorted: string[] = [];

  /** Registers a plaintext that must never appear in output (ignored when shorter than 4 characters). */
  register(value: string): void {
    if (value.length < 4 || this.values.has(value)) return;
    this.values.add(value);
    // Longest first so a value containing another is masked whole.
    this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Forgets a value (secret deleted or rotated away). */
  unregister(value: string): void {
    if (this.values.delete(value)) this.sorted = [...this.values].sort((a, b) => b.length - a.length);
  }

  /** Number of registered values. */
  get size(): number {
    return this.values.size;
  }

  /** True when `text` contains a registered value. */
  containsSecret(text: string): boolean {
    for (const v of this.sorted) if (text.includes(v)) return true;
    return false;
  }

  /** Masks registered values inside a string. */
  redactString(text: string): string {
    let out = text;
    for (const v of this.sorted) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** Masks secret fields and registered values anywhere in `value`. */
  redact<T>(value: T): T {
    return this.walk(value, new WeakMap()) as T;
  }

  private walk(value: unknown, seen: WeakMap<object, unknown>): unknown {
    if (typeof value === 'string') return this.sorted.length ? this.redactString(value) : value;
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return seen.get(value);
    if (value instanceof Error) {
      const e: Record<string, unknown> = { name: value.name, message: this.walk(value.message, seen) };
      if (value.stack) e.stack = this.walk(value.stack, seen);
      return e;
    }
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value;
    if (value instanceof Date) return value;
    if (Array.isArray(value)) {
      const arr: unknown[] = [];
      seen.set(value, arr);
      for (const v of value) arr.push(this.walk(v, seen));
      return arr;
    }
    if (value instanceof Map) {
      const m = new Map<unknown, unknown>();
      seen.set(value, m);
      for (const [k, v] of value) m.set(k, typeof k === 'string' && isSecretField(k) ? mask(v) : this.walk(v, seen));
      return m;
    }
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretField(k) ? mask(v) : this.walk(v, seen);
    }
    return out;
  }
}

function mask(v: unknown): unknown {
  if (v === undefined || v === null || v === '') return v;
  return REDACTED;
}

/** The process-wide redactor: the vault registers every plaintext it reveals here. */
export const defaultRedactor = new Redactor();

/** THE redaction function for logs, events and API responses. */
export function redact<T>(value: T, redactor: Redactor = defaultRedactor): T {
  return redactor.redact(value);
}
