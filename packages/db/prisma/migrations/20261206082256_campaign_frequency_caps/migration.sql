-- CreateTable
CREATE TABLE "frequency_caps" (
    "workspace_id" TEXT NOT NULL,
    "max_sends" INTEGER NOT NULL,
    "period_hours" INTEGER NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "frequency_caps_pkey" PRIMARY KEY ("workspace_id")
);

-- CreateTable
CREATE TABLE "campaign_sends" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "campaign_id" TEXT NOT NULL,
    "channel" "delivery_channel" NOT NULL,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaign_sends_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "campaign_sends_workspace_id_customer_id_requested_at_idx" ON "campaign_sends"("workspace_id", "customer_id", "requested_at");

-- CreateIndex
CREATE INDEX "campaign_sends_requested_at_idx" ON "campaign_sends"("requested_at");

-- AddForeignKey
ALTER TABLE "frequency_caps" ADD CONSTRAINT "frequency_caps_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_sends" ADD CONSTRAINT "campaign_sends_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

