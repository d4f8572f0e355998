-- AlterTable
ALTER TABLE "account_transactions" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "consents" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "consultations" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "contracts" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "device_tokens" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "events" ADD COLUMN     "original_customer_id" TEXT;

-- AlterTable
ALTER TABLE "web_push_subscriptions" ADD COLUMN     "original_customer_id" TEXT;

-- CreateTable
CREATE TABLE "identity_rule_sets" (
    "workspace_id" TEXT NOT NULL,
    "rules" JSONB NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "identity_rule_sets_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "customer_merges" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "survivor_id" TEXT NOT NULL,
    "merged_id" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "identifier_type" TEXT NOT NULL,
    "moved_identity_ids" TEXT[],
    "survivor_changes" JSONB NOT NULL DEFAULT '{}',
    "actor" TEXT NOT NULL,
    "merged_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "announced_at" TIMESTAMPTZ(3),
    "unmerged_at" TIMESTAMPTZ(3),
    "unmerged_by" TEXT,
    "unmerge_announced_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_merges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identity_conflicts" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "other_customer_id" TEXT,
    "link_type" TEXT NOT NULL,
    "limited_type" TEXT,
    "reason" TEXT NOT NULL,
    "message_id" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identity_conflicts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "customer_merges_workspace_id_survivor_id_merged_at_idx" ON "customer_merges"("workspace_id", "survivor_id", "merged_at");

-- CreateIndex
CREATE INDEX "customer_merges_workspace_id_merged_id_merged_at_idx" ON "customer_merges"("workspace_id", "merged_id", "merged_at");

-- CreateIndex
CREATE INDEX "customer_merges_announced_at_idx" ON "customer_merges"("announced_at");

-- CreateIndex
CREATE INDEX "customer_merges_unmerged_at_unmerge_announced_at_idx" ON "customer_merges"("unmerged_at", "unmerge_announced_at");

-- CreateIndex
CREATE INDEX "identity_conflicts_workspace_id_at_idx" ON "identity_conflicts"("workspace_id", "at");

-- CreateIndex
CREATE INDEX "identity_conflicts_workspace_id_customer_id_idx" ON "identity_conflicts"("workspace_id", "customer_id");

-- AddForeignKey
ALTER TABLE "identity_rule_sets" ADD CONSTRAINT "identity_rule_sets_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_merges" ADD CONSTRAINT "customer_merges_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identity_conflicts" ADD CONSTRAINT "identity_conflicts_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

