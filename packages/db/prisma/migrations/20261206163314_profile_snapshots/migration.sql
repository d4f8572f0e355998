-- Analysis's copy of each customer's stage becomes a snapshot of their profile (stage and traits).
-- CreateTable
CREATE TABLE "profile_snapshots" (
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "stage" "lifecycle_stage" NOT NULL,
    "traits" JSONB NOT NULL DEFAULT '{}',
    "changed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "profile_snapshots_pkey" PRIMARY KEY ("customer_id")
);

-- CreateIndex
CREATE INDEX "profile_snapshots_workspace_id_customer_id_idx" ON "profile_snapshots"("workspace_id", "customer_id");

-- The stages recorded so far are kept; their traits arrive with each customer's next profile change.
INSERT INTO "profile_snapshots" ("customer_id", "workspace_id", "stage", "changed_at")
SELECT "customer_id", "workspace_id", "stage", "changed_at" FROM "customer_stages";

-- DropTable
DROP TABLE "customer_stages";
