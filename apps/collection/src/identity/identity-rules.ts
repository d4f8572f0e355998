import type { IdentityRule } from '@cdp/contracts';

/** Rules that apply until a workspace stores its own (`PUT /v1/identity/rules`). */
export const DEFAULT_IDENTITY_RULES: IdentityRule[] = [
  { type: 'national_id_hmac', maxPerCustomer: 1, priority: 1, mergeable: true },
  { type: 'user_id', maxPerCustomer: 1, priority: 2, mergeable: true },
  { type: 'external_key', maxPerCustomer: 1, priority: 3, mergeable: true, perSystem: true },
  { type: 'email', maxPerCustomer: 5, priority: 4, mergeable: true },
  { type: 'phone', maxPerCustomer: 3, priority: 5, mergeable: true },
  { type: 'device_id', maxPerCustomer: null, priority: 6, mergeable: true },
  { type: 'anonymous_id', maxPerCustomer: null, priority: 7, mergeable: true },
];

/** Types no rule names: matched, never limited, least trusted, never grounds for a merge. */
const UNKNOWN_TYPE_RULE: Omit<IdentityRule, 'type'> = {
  maxPerCustomer: null,
  priority: 100,
  mergeable: false,
};

/** The rule set of one workspace, with look-ups resolution needs. */
export class RuleBook {
  private readonly byType: Map<string, IdentityRule>;

  constructor(readonly rules: IdentityRule[]) {
    this.byType = new Map(rules.map((r) => [r.type, r]));
  }

  rule(type: string): IdentityRule {
    return this.byType.get(type) ?? { type, ...UNKNOWN_TYPE_RULE };
  }

  priority(type: string): number {
    return this.rule(type).priority;
  }

  /** Key the per-customer limit counts under: the type, or type + system for perSystem rules. */
  limitScope(type: string, value: string): string {
    return this.rule(type).perSystem ? `${type}\u0000${value.split(':', 1)[0]}` : type;
  }

  limitOf(scope: string): number | null {
    return this.rule(scope.split('\u0000', 1)[0]!).maxPerCustomer;
  }
}
