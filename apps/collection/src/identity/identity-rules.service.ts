import { Injectable } from '@nestjs/common';
import type { IdentityRule, IdentityRulesPreviewRequest } from '@cdp/contracts';
import { Prisma, type Sql } from '@cdp/db';
import { DatabaseService, invalidInput, TtlCache } from '@cdp/service-kit';
import { DEFAULT_IDENTITY_RULES, RuleBook } from './identity-rules';

type Db = Prisma.TransactionClient;

/** Resolution reads the rules for every call; other replicas see a change within this time. */
const RULES_CACHE_MS = 5000;

export interface MergePreviewItem {
  customerIds: [string, string];
  customerCodes: [string, string];
  linkTypes: string[];
}

/** Per-workspace identity rules: read (with defaults), replace (validated, audited), preview. */
@Injectable()
export class IdentityRulesService {
  private cache = new TtlCache<RuleBook>(RULES_CACHE_MS);

  constructor(private readonly db: DatabaseService) {}

  async rulesOf(workspaceId: string, client: Db = this.db.client): Promise<IdentityRule[]> {
    const stored = await client.identityRuleSet.findUnique({ where: { workspaceId } });
    return stored ? (stored.rules as unknown as IdentityRule[]) : DEFAULT_IDENTITY_RULES;
  }

  /**
   * The rules resolution applies (cached for a few seconds), read through the caller's
   * transaction: a resolution holding a pooled connection must not wait for a second one.
   */
  ruleBook(workspaceId: string, sql: Sql): Promise<RuleBook> {
    return this.cache.get(workspaceId, async () => {
      const [stored] = await sql.query<{ rules: IdentityRule[] }>(
        'SELECT rules FROM identity_rule_sets WHERE workspace_id = $1',
        [workspaceId],
      );
      return new RuleBook(stored ? stored.rules : DEFAULT_IDENTITY_RULES);
    });
  }

  async replace(workspaceId: string, rules: IdentityRule[], actor: string): Promise<IdentityRule[]> {
    assertDistinctTypes(rules);
    await this.db.client.$transaction(async (tx) => {
      const before = await this.rulesOf(workspaceId, tx);
      const json = rules as unknown as Prisma.InputJsonValue;
      await tx.identityRuleSet.upsert({
        where: { workspaceId },
        create: { workspaceId, rules: json, updatedBy: actor },
        update: { rules: json, updatedBy: actor },
      });
      await tx.auditLog.create({
        data: {
          workspaceId,
          actor,
          action: 'identity_rules.updated',
          entityType: 'IdentityRuleSet',
          entityId: workspaceId,
          before: before,
          after: json,
        },
      });
    });
    this.cache = new TtlCache<RuleBook>(RULES_CACHE_MS); // this replica applies the change at once
    return rules;
  }

  /**
   * Which live customers the candidate rules would merge, without changing anything. Customers are
   * only ever linked by the calls that touched both of them; the refusals of the current rules are
   * recorded in identity_conflicts, so a pair qualifies when its link type is mergeable under the
   * candidate rules and the union of both customers' identities (counted in SQL) stays within every
   * candidate limit. Pairwise (chains A-B-C are listed as two pairs), keyset-paged by the pair.
   */
  async preview(workspaceId: string, request: IdentityRulesPreviewRequest) {
    assertDistinctTypes(request.rules);
    const limit = request.limit ?? 100;
    const [afterA, afterB] = request.cursor ? request.cursor.split(':') : ['', ''];
    const rules = JSON.stringify(request.rules);
    const rows = await this.db.client.$queryRaw<
      Array<{ a: string; b: string; code_a: string; code_b: string; link_types: string[] }>
    >`
      WITH rules AS (
        SELECT r.type, r."maxPerCustomer" AS max_per_customer, r.mergeable, coalesce(r."perSystem", false) AS per_system
        FROM jsonb_to_recordset(${rules}::jsonb) AS r(type text, "maxPerCustomer" int, mergeable boolean, "perSystem" boolean)
      ),
      pairs AS (
        SELECT DISTINCT least(c.customer_id, c.other_customer_id) AS a,
               greatest(c.customer_id, c.other_customer_id) AS b, c.link_type
        FROM identity_conflicts c
        JOIN customers ca ON ca.id = c.customer_id AND ca.merged_into_id IS NULL
        JOIN customers cb ON cb.id = c.other_customer_id AND cb.merged_into_id IS NULL
        WHERE c.workspace_id = ${workspaceId} AND c.other_customer_id IS NOT NULL
          AND c.customer_id <> c.other_customer_id
          AND (least(c.customer_id, c.other_customer_id), greatest(c.customer_id, c.other_customer_id)) > (${afterA}, ${afterB})
      ),
      linked AS (
        SELECT p.a, p.b, array_agg(DISTINCT p.link_type ORDER BY p.link_type) AS link_types
        FROM pairs p LEFT JOIN rules r ON r.type = p.link_type
        WHERE p.link_type = 'alias' OR r.mergeable
        GROUP BY p.a, p.b
      ),
      over_limit AS (
        SELECT l.a, l.b
        FROM linked l
        JOIN identities i ON i.customer_id IN (l.a, l.b)
        JOIN rules r ON r.type = i.type AND r.max_per_customer IS NOT NULL
        GROUP BY l.a, l.b, i.type, CASE WHEN r.per_system THEN split_part(i.value, ':', 1) ELSE '' END, r.max_per_customer
        HAVING count(*) > r.max_per_customer
      )
      SELECT l.a, l.b, ca.customer_code AS code_a, cb.customer_code AS code_b, l.link_types
      FROM linked l
      JOIN customers ca ON ca.id = l.a
      JOIN customers cb ON cb.id = l.b
      WHERE NOT EXISTS (SELECT 1 FROM over_limit o WHERE o.a = l.a AND o.b = l.b)
      ORDER BY l.a, l.b
      LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map<MergePreviewItem>((r) => ({
        customerIds: [r.a, r.b],
        customerCodes: [r.code_a, r.code_b],
        linkTypes: r.link_types,
      })),
      nextCursor: rows.length > limit && last ? `${last.a}:${last.b}` : null,
    };
  }
}

function assertDistinctTypes(rules: IdentityRule[]): void {
  const seen = new Set<string>();
  rules.forEach((rule, index) => {
    if (seen.has(rule.type))
      throw invalidInput(`/rules/${index}/type`, `duplicate rule for type ${rule.type}`);
    seen.add(rule.type);
  });
}
