-- CreateTable
CREATE TABLE "customer_erasures" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "customer_code" TEXT NOT NULL,
    "erased_ids" TEXT[],
    "actor" TEXT NOT NULL,
    "erased_at" TIMESTAMPTZ(3) NOT NULL,
    "announced_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_erasures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "customer_erasures_workspace_id_customer_id_idx" ON "customer_erasures"("workspace_id", "customer_id");

-- CreateIndex
CREATE INDEX "customer_erasures_announced_at_idx" ON "customer_erasures"("announced_at");

-- AddForeignKey
ALTER TABLE "customer_erasures" ADD CONSTRAINT "customer_erasures_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

