import { createHash } from 'node:crypto';
import type { CampaignTemplate, CampaignVariant } from '@cdp/contracts';

/** The group of a customer kept out as the control group. */
export const HOLDOUT = 'holdout';
/** The variant name of a campaign with one template. */
export const DEFAULT_VARIANT = 'default';

const BUCKETS = 10_000;

export type Assignment = { holdout: true } | { holdout: false; variant: string; template: CampaignTemplate };

/**
 * A customer's fixed place in [0, BUCKETS): the same for a campaign and customer every time, so a
 * redelivered or repeated trigger lands in the same group, and independent between campaigns.
 */
function bucketOf(campaignId: string, customerId: string): number {
  return (
    parseInt(createHash('sha256').update(`${campaignId}:${customerId}`).digest('hex').slice(0, 8), 16) %
    BUCKETS
  );
}

/**
 * Which group a customer falls in: the control group for `holdoutPercent` of the buckets, else one
 * of the variants by weight (or the campaign's one template).
 */
export function assignmentOf(
  campaign: { id: string; holdoutPercent: number; variants: readonly CampaignVariant[] | undefined },
  template: CampaignTemplate,
  customerId: string,
): Assignment {
  const bucket = bucketOf(campaign.id, customerId);
  const holdoutBuckets = (campaign.holdoutPercent * BUCKETS) / 100;
  if (bucket < holdoutBuckets) return { holdout: true };
  const variants = campaign.variants;
  if (!variants?.length) return { holdout: false, variant: DEFAULT_VARIANT, template };
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  // The buckets past the control group, spread over the variants in proportion to their weights.
  let point = ((bucket - holdoutBuckets) / (BUCKETS - holdoutBuckets)) * total;
  for (const variant of variants) {
    if (point < variant.weight) return { holdout: false, variant: variant.name, template: variant.template };
    point -= variant.weight;
  }
  const last = variants[variants.length - 1]!;
  return { holdout: false, variant: last.name, template: last.template };
}
