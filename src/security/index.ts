/** Public surface of security: vault, passwords, sessions, roles, TOTP, redaction, preflight. */
export * from './aead.js';
export * from './auth.js';
export * from './kdf.js';
export * from './passwords.js';
export * from './permissions.js';
export * from './preflight.js';
export * from './redact.js';
export * from './secret-scan.js';
export * from './totp.js';
export * from './vault.js';
