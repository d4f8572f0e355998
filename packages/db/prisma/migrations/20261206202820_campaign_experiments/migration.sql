-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "holdout_percent" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "variants" JSONB;

-- CreateTable
CREATE TABLE "campaign_assignments" (
    "campaign_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "assigned_to" TEXT NOT NULL,
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaign_assignments_pkey" PRIMARY KEY ("campaign_id","customer_id")
);

-- CreateIndex
CREATE INDEX "campaign_assignments_workspace_id_customer_id_idx" ON "campaign_assignments"("workspace_id", "customer_id");

-- AddForeignKey
ALTER TABLE "campaign_assignments" ADD CONSTRAINT "campaign_assignments_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_assignments" ADD CONSTRAINT "campaign_assignments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

