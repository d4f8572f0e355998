import { PREVIOUS_ID, type Identifier } from './identifiers';
import type { RuleBook } from './identity-rules';

/** One call to resolve, as the batch planner sees it. */
export interface PlanRequest {
  workspaceId: string;
  identifiers: Identifier[];
}

/** An identity already in the graph (under lock). */
export interface KnownIdentity {
  workspaceId: string;
  type: string;
  value: string;
  customerId: string;
}

/** A new identifier for a customer, with the first request (in batch order) that carries it. */
export interface FreshIdentifier extends Identifier {
  request: number;
}

/**
 * What to do with one connected group of requests (requests linked by shared identifiers, directly
 * or through the customer that owns them):
 * - `new`: nobody in the graph; one new customer takes every identifier.
 * - `existing`: exactly one known customer takes the group's new identifiers.
 * - `sequential`: anything that may merge, refuse or split (alias calls, two or more customers,
 *   a limit the group would break, a type that is no ground for linking): resolve one by one.
 */
export type GroupPlan =
  | { kind: 'new'; workspaceId: string; requests: number[]; fresh: FreshIdentifier[] }
  | {
      kind: 'existing';
      workspaceId: string;
      customerId: string;
      requests: number[];
      fresh: FreshIdentifier[];
    }
  | { kind: 'sequential'; requests: number[] };

/** Identity counts per customer and limit scope (only scopes that have a limit). */
export type LimitCounts = Map<string, Map<string, number>>;

const identifierKey = (workspaceId: string, i: Identifier) =>
  `i\u0000${workspaceId}\u0000${i.type}\u0000${i.value}`;

/** Requests linked by shared identifiers (directly or through the customer owning them). */
export interface RequestGroup {
  workspaceId: string;
  requests: number[];
  /** Known customers the group's identifiers belong to. */
  customers: string[];
  /** Identifiers nobody has yet, each with the first request carrying it. */
  fresh: FreshIdentifier[];
  /** Whether any request carries an alias previousId. */
  alias: boolean;
}

/**
 * Splits a batch into independent groups and decides, per group, whether it can be resolved
 * set-wise. A set-wise group ends exactly where resolving its requests one by one would end (one
 * customer holding every identifier), so only groups that might merge, refuse or split customers
 * pay for sequential resolution. Groups share no identifier and no customer, so their order does
 * not matter.
 */
export function planBatch(
  requests: readonly PlanRequest[],
  known: readonly KnownIdentity[],
  books: ReadonlyMap<string, RuleBook>,
  counts: LimitCounts,
): GroupPlan[] {
  return groupBatch(requests, known).map((group) => planGroup(group, books, counts));
}

/** The batch's independent groups; they share no identifier and no customer. */
export function groupBatch(
  requests: readonly PlanRequest[],
  known: readonly KnownIdentity[],
): RequestGroup[] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root) ?? root;
    for (let node = x; node !== root;) {
      const next = parent.get(node)!;
      parent.set(node, root);
      node = next;
    }
    return root;
  };
  const union = (a: string, b: string) => {
    for (const n of [a, b]) if (!parent.has(n)) parent.set(n, n);
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(rb, ra);
  };

  const owner = new Map<string, string>();
  for (const k of known) owner.set(identifierKey(k.workspaceId, k), k.customerId);
  requests.forEach((request, index) => {
    const node = `r\u0000${index}`;
    union(node, node);
    for (const identifier of request.identifiers) {
      const key = identifierKey(request.workspaceId, identifier);
      union(node, key);
      const customerId = owner.get(key);
      if (customerId) union(key, `c\u0000${customerId}`);
    }
  });

  const groups = new Map<string, number[]>();
  requests.forEach((_, index) => {
    const root = find(`r\u0000${index}`);
    groups.set(root, [...(groups.get(root) ?? []), index]);
  });

  return [...groups.values()].map((indexes) => {
    const workspaceId = requests[indexes[0]!]!.workspaceId;
    const customers = new Set<string>();
    const fresh = new Map<string, FreshIdentifier>();
    let alias = false;
    for (const index of indexes)
      for (const identifier of requests[index]!.identifiers) {
        if (identifier.type === PREVIOUS_ID) alias = true;
        const key = identifierKey(workspaceId, identifier);
        const customerId = owner.get(key);
        if (customerId) customers.add(customerId);
        else if (!fresh.has(key)) fresh.set(key, { ...identifier, request: index });
      }
    return { workspaceId, requests: indexes, customers: [...customers], fresh: [...fresh.values()], alias };
  });
}

/** Whether resolving the group set-wise needs the identity counts of its customer (limits). */
export function needsLimitCounts(group: RequestGroup, book: RuleBook | undefined): boolean {
  return (
    group.customers.length === 1 &&
    group.fresh.some((i) => book?.limitOf(book.limitScope(i.type, i.value)) !== null)
  );
}

export function planGroup(
  group: RequestGroup,
  books: ReadonlyMap<string, RuleBook>,
  counts: LimitCounts,
): GroupPlan {
  const { workspaceId, requests: indexes, customers, fresh } = group;
  const sequential: GroupPlan = { kind: 'sequential', requests: indexes };
  const book = books.get(workspaceId);
  if (!book || group.alias || customers.length > 1) return sequential;
  if (fresh.some((i) => !book.rule(i.type).mergeable)) return sequential;
  const [customerId] = customers;
  const tally = new Map(customerId ? counts.get(customerId) : []);
  for (const identifier of fresh) {
    const scope = book.limitScope(identifier.type, identifier.value);
    const max = book.limitOf(scope);
    const n = (tally.get(scope) ?? 0) + 1;
    if (max !== null && n > max) return sequential;
    tally.set(scope, n);
  }
  return customerId
    ? { kind: 'existing', workspaceId, customerId, requests: indexes, fresh }
    : { kind: 'new', workspaceId, requests: indexes, fresh };
}
