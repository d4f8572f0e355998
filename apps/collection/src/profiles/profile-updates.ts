import { Subjects } from '@cdp/contracts';
import type { Sql } from '@cdp/db';
import type { PublishItem } from '@cdp/messaging';
import { asObject } from '../identity/national-id';

type Stage = 'potential' | 'prospect' | 'contracted';

/** What cdp.profile.updated says of a customer: their profile as it stands after the change. */
export interface ProfileState {
  id: string;
  workspaceId: string;
  customerCode: string;
  lifecycleStage: Stage;
  traits: unknown;
  updatedAt: Date;
}

/** The columns of a {@link ProfileState}, from `customers c`. */
export const PROFILE_STATE_COLUMNS = `c.id, c.workspace_id AS "workspaceId", c.customer_code AS "customerCode",
  c.lifecycle_stage::text AS "lifecycleStage", c.traits, c.updated_at AS "updatedAt"`;

/**
 * One cdp.profile.updated. `msgId` names the change (`lifecycle:...`, `profile:<customer>:<cause>`),
 * so the same change announced again (a redelivery, a relay run after a crash) is dropped by
 * JetStream as a duplicate.
 */
export function profileUpdate(
  state: ProfileState,
  changedTraits: readonly string[],
  msgId: string,
): PublishItem {
  return {
    subject: Subjects.profileUpdated,
    payload: {
      workspaceId: state.workspaceId,
      customerId: state.id,
      customerCode: state.customerCode,
      lifecycleStage: state.lifecycleStage,
      changedTraits: [...changedTraits],
      traits: asObject(state.traits),
      updatedAt: state.updatedAt.toISOString(),
    },
    msgId,
  };
}

/** The profiles of these customers as they stand (live or merged rows alike), by id. */
export async function profileStates(
  sql: Sql,
  customerIds: readonly string[],
): Promise<Map<string, ProfileState>> {
  if (!customerIds.length) return new Map();
  const rows = await sql.query<ProfileState>(
    `SELECT ${PROFILE_STATE_COLUMNS} FROM customers c WHERE c.id = ANY($1::text[])`,
    [[...new Set(customerIds)]],
  );
  return new Map(rows.map((row) => [row.id, row]));
}
