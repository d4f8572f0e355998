import type { Logger } from '@nestjs/common';
import type { JetStreamBatchFailures } from '@cdp/messaging';
import { dependencyOf } from '@cdp/service-kit';

/**
 * Handles a batch of messages at once and, when that fails, each message alone, so that one
 * message the handler cannot take (or a deadlock with another batch) fails only itself: the failed
 * ones are nak'ed and come back. A dependency that is down fails the whole batch at once (every
 * message comes back later) instead of failing each message in turn.
 */
export async function eachAloneOnFailure<T>(
  items: readonly T[],
  handle: (items: readonly T[]) => Promise<void>,
  logger: Logger,
): Promise<JetStreamBatchFailures> {
  const failures = new Map<number, unknown>();
  try {
    await handle(items);
    return failures;
  } catch (error) {
    if (items.length === 1 || dependencyOf(error)) throw error;
    logger.warn(`a batch of ${items.length} failed (${String(error)}); handling each message alone`);
  }
  for (const [i, item] of items.entries())
    await handle([item]).catch((error: unknown) => void failures.set(i, error));
  return failures;
}
