-- CreateTable
CREATE TABLE "customer_stages" (
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "stage" "lifecycle_stage" NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customer_stages_pkey" PRIMARY KEY ("customer_id")
);

-- CreateIndex
CREATE INDEX "customer_stages_workspace_id_stage_idx" ON "customer_stages"("workspace_id", "stage");

