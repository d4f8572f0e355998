import { setTimeout as sleep } from 'node:timers/promises';

export interface RowIssue {
  line: number;
  issues: Array<{ path: string; reason: string }>;
}

export interface UploadBatch {
  lines: number[];
  calls: Array<Record<string, unknown>>;
}

interface BatchAnswer {
  rejected?: Array<{ index: number; issues: Array<{ path: string; reason: string }> }>;
  issues?: Array<{ path: string; reason: string }>;
  message?: string;
}

/**
 * Sends batches to the collection's /v1/batch like an SDK: Basic auth with the write key,
 * retries with backoff on 429/5xx and network errors (messageIds make retries safe), and maps
 * rejected batch indexes back to file lines.
 */
export class BatchUploader {
  private readonly auth: string;

  constructor(
    private readonly baseUrl: string,
    writeKey: string,
    private readonly maxAttempts = 8,
  ) {
    this.auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  }

  async send(batch: UploadBatch): Promise<RowIssue[]> {
    const body = JSON.stringify({ batch: batch.calls, sentAt: new Date().toISOString() });
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let answer: BatchAnswer = {};
      try {
        const res = await fetch(`${this.baseUrl}/v1/batch`, {
          method: 'POST',
          headers: { authorization: this.auth, 'content-type': 'application/json' },
          body,
        });
        status = res.status;
        answer = (await res.json().catch(() => ({}))) ?? {};
      } catch (e) {
        if (attempt >= this.maxAttempts)
          throw new Error(`collection unreachable after ${attempt} attempts: ${(e as Error).message}`, {
            cause: e,
          });
        await sleep(Math.min(250 * 2 ** attempt, 10_000));
        continue;
      }
      if (status === 200) return this.issuesOf(batch, answer.rejected ?? []);
      if (status === 400 && answer.rejected) return this.issuesOf(batch, answer.rejected);
      if ((status === 429 || status >= 500) && attempt < this.maxAttempts) {
        await sleep(Math.min(250 * 2 ** attempt, 10_000));
        continue;
      }
      if (status === 401) throw new Error('the write key was refused (401)');
      // A whole batch refused for another reason (413, 400 without per-row detail): report every row.
      return batch.lines.map((line) => ({
        line,
        issues: answer.issues ?? [{ path: '/', reason: `HTTP ${status}: ${answer.message ?? 'rejected'}` }],
      }));
    }
  }

  private issuesOf(batch: UploadBatch, rejected: NonNullable<BatchAnswer['rejected']>): RowIssue[] {
    return rejected.map((r) => ({ line: batch.lines[r.index] ?? -1, issues: r.issues }));
  }
}
