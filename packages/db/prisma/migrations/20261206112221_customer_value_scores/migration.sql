-- CreateTable
CREATE TABLE "customer_activity" (
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "events" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "revenue" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "as_of" TIMESTAMPTZ(3) NOT NULL,
    "ended_by_merge" TEXT,
    "merged_into" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "customer_activity_pkey" PRIMARY KEY ("customer_id")
);

-- CreateTable
CREATE TABLE "scored_events" (
    "event_id" BIGINT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "scored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scored_events_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "scored_events_scored_at_idx" ON "scored_events"("scored_at");

-- CreateIndex
CREATE INDEX "scores_model_computed_at_idx" ON "scores"("model", "computed_at");

-- AddForeignKey
ALTER TABLE "customer_activity" ADD CONSTRAINT "customer_activity_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_activity" ADD CONSTRAINT "customer_activity_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

