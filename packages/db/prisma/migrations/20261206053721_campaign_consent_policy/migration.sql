-- CreateEnum
CREATE TYPE "campaign_consent_policy" AS ENUM ('opt_out', 'opt_in');

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "consent_policy" "campaign_consent_policy" NOT NULL DEFAULT 'opt_out';

