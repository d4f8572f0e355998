import { randomBytes } from 'node:crypto';

/** A new secret key: `wk_` (write key) or `cdp_` (management API key) and 192 random bits. */
export function newSecret(prefix: 'wk' | 'cdp'): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}
