-- Write-key rotation: the replaced key keeps working until it expires, so SDKs can be redeployed.
-- AlterTable
ALTER TABLE "sources" ADD COLUMN     "previous_write_key_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "previous_write_key_hash" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "sources_previous_write_key_hash_key" ON "sources"("previous_write_key_hash");

