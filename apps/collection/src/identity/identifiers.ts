import { asObject, nationalIdOf, type NationalIdHasher } from './national-id';

export interface Identifier {
  type: string;
  value: string;
}

/**
 * Pseudo-type for the previousId of an alias call: it names an existing anonymous_id or user_id.
 * Resolution matches it against both and merges its owner into the userId's customer (reason
 * `alias`); if nobody has it yet it is stored as an anonymous_id.
 */
export const PREVIOUS_ID = 'previous_id';

/** The advisory-lock key of one identifier: whoever links, moves or deletes it holds this lock first. */
export function identifierLockKey(workspaceId: string, type: string, value: string): string {
  return `${workspaceId}|${type}|${value}`;
}

/** Emails identify people case-insensitively in practice; store and match them trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Phone numbers are matched without formatting: digits and a leading +. */
export function normalizePhone(phone: string): string {
  const trimmed = phone.trim();
  return (trimmed.startsWith('+') ? '+' : '') + trimmed.replace(/\D/g, '');
}

export interface IdentifiableCall {
  workspaceId?: string;
  type?: string;
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  traits?: Record<string, unknown>;
  context?: unknown;
}

const MAX_EXTERNAL_IDS = 20;

/**
 * Every identifier a call carries: userId, anonymousId, previousId (alias calls), email, phone,
 * context.device.id, external system keys (Segment's `externalIds: [{type, id, collection}]` in
 * traits or context, value `<type>:<id>`) and the national ID as an HMAC (needs `nationalIds`;
 * `IdentityService.identifiersOf` passes it). A call with a national ID and no hasher throws rather
 * than lose or store the identifier.
 */
export function identifiersOf(call: IdentifiableCall, nationalIds?: NationalIdHasher): Identifier[] {
  const ids: Identifier[] = [];
  const traits = { ...asObject(asObject(call.context).traits), ...asObject(call.traits) };
  const context = asObject(call.context);
  if (call.userId) ids.push({ type: 'user_id', value: call.userId });
  if (call.anonymousId) ids.push({ type: 'anonymous_id', value: call.anonymousId });
  if (call.type === 'alias' && call.previousId && call.previousId !== call.userId)
    ids.push({ type: PREVIOUS_ID, value: call.previousId });
  const email = traits.email;
  if (typeof email === 'string' && email.includes('@'))
    ids.push({ type: 'email', value: normalizeEmail(email) });
  const phone = typeof traits.phone === 'string' ? normalizePhone(traits.phone) : '';
  if (phone.replace('+', '').length >= 5) ids.push({ type: 'phone', value: phone });
  const deviceId = asObject(context.device).id;
  if (typeof deviceId === 'string' && deviceId) ids.push({ type: 'device_id', value: deviceId });
  const externalIds = [traits.externalIds, context.externalIds].flatMap((list): unknown[] =>
    Array.isArray(list) ? (list as unknown[]) : [],
  );
  for (const external of externalIds.slice(0, MAX_EXTERNAL_IDS)) {
    const { type, id } = asObject(external);
    if (typeof type === 'string' && type && (typeof id === 'string' || typeof id === 'number') && `${id}`)
      ids.push({ type: 'external_key', value: `${type}:${id}` });
  }
  const nationalId = nationalIdOf(call);
  if (nationalId) {
    if (!nationalIds || !call.workspaceId)
      throw new Error(
        'A national ID can only be resolved with the workspace key: use IdentityService.identifiersOf',
      );
    ids.push({ type: 'national_id_hmac', value: nationalIds.hash(call.workspaceId, nationalId) });
  }
  return dedupe(ids);
}

function dedupe(ids: Identifier[]): Identifier[] {
  const seen = new Set<string>();
  return ids.filter((i) => {
    const key = `${i.type}\u0000${i.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
