-- The send ledger's rows name their workspace without a foreign key to it (see schema.prisma):
-- every ledger write of a workspace locked its one row, and Postgres built a MultiXact per statement.
-- DropForeignKey
ALTER TABLE "messages" DROP CONSTRAINT "messages_workspace_id_fkey";

-- DropForeignKey
ALTER TABLE "message_provider_ids" DROP CONSTRAINT "message_provider_ids_workspace_id_fkey";
