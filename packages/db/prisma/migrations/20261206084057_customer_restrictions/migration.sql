-- CreateTable
CREATE TABLE "customer_restrictions" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "customer_code" TEXT NOT NULL,
    "restricted" BOOLEAN NOT NULL,
    "actor" TEXT NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "announced_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_restrictions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "customer_restrictions_workspace_id_customer_id_idx" ON "customer_restrictions"("workspace_id", "customer_id");

-- CreateIndex
CREATE INDEX "customer_restrictions_announced_at_idx" ON "customer_restrictions"("announced_at");

-- AddForeignKey
ALTER TABLE "customer_restrictions" ADD CONSTRAINT "customer_restrictions_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

