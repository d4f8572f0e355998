-- AlterEnum
ALTER TYPE "campaign_consent_policy" ADD VALUE 'transactional';

