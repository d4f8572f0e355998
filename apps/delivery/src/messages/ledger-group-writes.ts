import { Injectable } from '@nestjs/common';
import { DatabaseService, MicroBatcher } from '@cdp/service-kit';
import type { LedgerRow } from './ledger-row';

/** What marking a row sent recorded; the caller has the rest of the row. */
export type SentFacts = Pick<
  LedgerRow,
  'id' | 'status' | 'provider' | 'providerMessageId' | 'sentAt' | 'updatedAt'
>;

interface Claim {
  ids: string[];
  provider: string;
  jobId: string;
  /** Filled by the flush: the ids this job claimed. */
  claimed?: Set<string>;
}

/** A message the provider took; `lookUp`: its receipts may name only the provider's id. */
export interface Sent {
  id: string;
  providerMessageId: string;
  lookUp: boolean;
}

interface SentMark {
  sent: Sent[];
  /** Filled by the flush: the rows' send facts as recorded. */
  rows?: SentFacts[];
}

/** Enough for every job of every channel running at once. */
const GROUP_SIZE = 2000;

/**
 * The two ledger writes every send makes, claim (`sending`) and `sent`, for all the jobs running
 * at once: each job awaits its own part, but the parts that arrive while a statement runs go
 * together in the next one (group commit). A job's claim is still committed before its provider
 * calls, and its `sent` before its statuses are published; what changes is the number of
 * statements and commits, which cost Postgres far more CPU than the rows in them (see the README's
 * Benchmark section). A failed statement fails every job of its group, each retried as before.
 */
@Injectable()
export class LedgerGroupWrites {
  private readonly claims = new MicroBatcher<Claim>({
    maxSize: GROUP_SIZE,
    maxDelayMs: 0,
    flush: (claims) => this.claimAll(claims),
  });

  private readonly sentMarks = new MicroBatcher<SentMark>({
    maxSize: GROUP_SIZE,
    maxDelayMs: 0,
    flush: (marks) => this.markAllSent(marks),
  });

  constructor(private readonly db: DatabaseService) {}

  /**
   * Marks the job's rows `sending` (one more attempt, the provider named) where they are still
   * `queued` and belong to the job; returns the ids it claimed.
   */
  async claim(jobId: string, ids: string[], provider: string): Promise<Set<string>> {
    const claim: Claim = { ids, provider, jobId };
    await this.claims.add(claim);
    return claim.claimed!;
  }

  /**
   * `sent` only replaces `sending`: a provider receipt (delivered, opened ...) that arrived before
   * this commit keeps its later status, and the send facts are recorded either way. Messages to
   * `lookUp` also get a row in message_provider_ids.
   */
  async markSent(sent: Sent[]): Promise<SentFacts[]> {
    const mark: SentMark = { sent };
    await this.sentMarks.add(mark);
    return mark.rows!;
  }

  private async claimAll(claims: Claim[]): Promise<void> {
    const ids: string[] = [];
    const providers: string[] = [];
    const jobs: string[] = [];
    const claimIndexes: number[] = [];
    claims.forEach((c, index) => {
      c.claimed = new Set();
      for (const id of c.ids) {
        ids.push(id);
        providers.push(c.provider);
        jobs.push(c.jobId);
        claimIndexes.push(index);
      }
    });
    // RETURNING names the claim whose line took the row: a row listed twice (two attempts of one
    // job run at once after a stalled lock, or a row from before batch jobs, which names no job)
    // is updated once, so exactly one claim gets it.
    const { rows } = await this.db.pool.query<{ id: string; claim: number }>({
      name: 'delivery-ledger-claim',
      text: `UPDATE messages SET status = 'sending', attempts = attempts + 1, provider = v.provider, updated_at = now()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS v(id, provider, job, claim)
        WHERE messages.id = v.id AND messages.status = 'queued'
          AND (messages.send_job_id = v.job OR messages.send_job_id IS NULL)
        RETURNING messages.id, v.claim`,
      values: [ids, providers, jobs, claimIndexes],
    });
    for (const row of rows) claims[row.claim]!.claimed!.add(row.id);
  }

  private async markAllSent(marks: SentMark[]): Promise<void> {
    const sent = marks.flatMap((m) => m.sent);
    // Only what this statement sets comes back: reading back whole rows was a visible share of the
    // CPU per message. The provider's id also goes into message_provider_ids where receipts may
    // name only it: no index of `messages` names a column set here (a HOT update). That row, its two
    // index entries and its key check cost Postgres about as much as the update, so it is written
    // only where it can be needed.
    const { rows } = await this.db.pool.query<SentFacts>({
      name: 'delivery-ledger-sent',
      text: `WITH sent AS (
          UPDATE messages SET
            status = CASE WHEN status = 'sending' THEN 'sent'::message_status ELSE status END,
            provider_message_id = v.provider_id,
            sent_at = now(),
            error = NULL,
            updated_at = now()
          FROM unnest($1::text[], $2::text[], $3::bool[]) AS v(message_id, provider_id, look_up)
          WHERE messages.id = v.message_id
          RETURNING messages.id, messages.workspace_id, status::text AS status, provider,
            provider_message_id AS "providerMessageId", sent_at AS "sentAt", updated_at AS "updatedAt",
            v.look_up
        ), provider_ids AS (
          INSERT INTO message_provider_ids (workspace_id, provider, provider_message_id, message_id, created_at)
          SELECT workspace_id, provider, "providerMessageId", id, "sentAt" FROM sent
          WHERE look_up AND provider IS NOT NULL
          ON CONFLICT DO NOTHING
        )
        SELECT id, status, provider, "providerMessageId", "sentAt", "updatedAt" FROM sent`,
      values: [sent.map((s) => s.id), sent.map((s) => s.providerMessageId), sent.map((s) => s.lookUp)],
    });
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const m of marks) m.rows = m.sent.flatMap((s) => byId.get(s.id) ?? []);
  }
}
