-- Every row carries its workspace (the data model's rule); the ids recorded so far take their
-- message's.
ALTER TABLE "message_provider_ids" ADD COLUMN "workspace_id" TEXT;

UPDATE "message_provider_ids" p SET "workspace_id" = m."workspace_id"
FROM "messages" m WHERE m."id" = p."message_id";

ALTER TABLE "message_provider_ids" ALTER COLUMN "workspace_id" SET NOT NULL;

-- AddForeignKey
ALTER TABLE "message_provider_ids" ADD CONSTRAINT "message_provider_ids_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;
