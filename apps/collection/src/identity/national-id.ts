import { createHmac, hkdfSync } from 'node:crypto';

/** Trait name under which sources send a national identifier (traits or context.traits). */
export const NATIONAL_ID_TRAIT = 'nationalId';

/**
 * HMAC-SHA-256 under a per-workspace key derived with HKDF-SHA-256 from a master secret, the
 * workspace id and a purpose (the HKDF salt): equal values match inside a workspace and purpose;
 * the same value gives unrelated hashes in two workspaces or for two purposes.
 */
export class WorkspaceHmac {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly masterSecret: string,
    private readonly purpose: string,
  ) {}

  hash(workspaceId: string, value: string): string {
    return createHmac('sha256', this.keyOf(workspaceId)).update(value).digest('hex');
  }

  private keyOf(workspaceId: string): Buffer {
    let key = this.keys.get(workspaceId);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.masterSecret, this.purpose, `workspace:${workspaceId}`, 32));
      this.keys.set(workspaceId, key);
    }
    return key;
  }
}

/**
 * Hashes national identifiers (e.g. resident registration numbers) so they can be matched but are
 * never stored: a {@link WorkspaceHmac} of the master secret NATIONAL_ID_HMAC_SECRET. Rotating the
 * master secret breaks matching against hashes already stored.
 */
export class NationalIdHasher {
  private readonly hmac: WorkspaceHmac;

  constructor(masterSecret: string) {
    if (masterSecret.length < 32) throw new Error('NATIONAL_ID_HMAC_SECRET must be at least 32 characters');
    this.hmac = new WorkspaceHmac(masterSecret, 'cdp-national-id');
  }

  hash(workspaceId: string, nationalId: string): string {
    return this.hmac.hash(workspaceId, normalizeNationalId(nationalId));
  }
}

/** The same number written with spaces or hyphens (`900101-1234567`) must give the same hash. */
export function normalizeNationalId(value: string): string {
  return value.replace(/[\s-]/g, '').toUpperCase();
}

export function nationalIdOf(call: { traits?: unknown; context?: unknown }): string | undefined {
  const direct = asObject(call.traits)[NATIONAL_ID_TRAIT];
  const nested = asObject(asObject(call.context).traits)[NATIONAL_ID_TRAIT];
  const value = typeof direct === 'string' && direct.trim() ? direct : nested;
  return typeof value === 'string' && value.trim() ? value : undefined;
}

/**
 * The call without its raw national identifier: removed from traits, context.traits and (for
 * identify calls, whose properties are the traits) properties. Ingest stores only what this returns;
 * the identifier itself survives only as the national_id_hmac identity.
 */
export function stripNationalId<
  C extends {
    traits?: Record<string, unknown>;
    context?: Record<string, unknown>;
    properties?: Record<string, unknown>;
  },
>(call: C): C {
  const clean = { ...call };
  if (call.traits && NATIONAL_ID_TRAIT in call.traits) clean.traits = without(call.traits, NATIONAL_ID_TRAIT);
  if (call.properties && NATIONAL_ID_TRAIT in call.properties)
    clean.properties = without(call.properties, NATIONAL_ID_TRAIT);
  const contextTraits = asObject(call.context?.traits);
  if (call.context && NATIONAL_ID_TRAIT in contextTraits)
    clean.context = { ...call.context, traits: without(contextTraits, NATIONAL_ID_TRAIT) };
  return clean;
}

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _removed, ...rest } = object;
  return rest;
}

export function asObject(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
