-- CreateTable
CREATE TABLE "held_triggers" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "campaign_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "change" TEXT NOT NULL,
    "membership" JSONB NOT NULL,
    "release_at" TIMESTAMPTZ(3) NOT NULL,
    "held_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "held_triggers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "held_triggers_release_at_idx" ON "held_triggers"("release_at");

-- CreateIndex
CREATE INDEX "held_triggers_workspace_id_customer_id_idx" ON "held_triggers"("workspace_id", "customer_id");

-- AddForeignKey
ALTER TABLE "held_triggers" ADD CONSTRAINT "held_triggers_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "held_triggers" ADD CONSTRAINT "held_triggers_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

