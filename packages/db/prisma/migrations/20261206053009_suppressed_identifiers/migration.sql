-- CreateTable
CREATE TABLE "suppressed_identifiers" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "value_hash" TEXT NOT NULL,
    "customer_code" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppressed_identifiers_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "suppressed_identifiers_workspace_id_customer_code_idx" ON "suppressed_identifiers"("workspace_id", "customer_code");

-- CreateIndex
CREATE INDEX "suppressed_identifiers_workspace_id_created_at_idx" ON "suppressed_identifiers"("workspace_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "suppressed_identifiers_workspace_id_type_value_hash_key" ON "suppressed_identifiers"("workspace_id", "type", "value_hash");

-- AddForeignKey
ALTER TABLE "suppressed_identifiers" ADD CONSTRAINT "suppressed_identifiers_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

