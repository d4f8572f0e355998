-- CreateTable
CREATE TABLE "segment_event_hits" (
    "segment_id" TEXT NOT NULL,
    "condition_path" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "segment_event_hits_pkey" PRIMARY KEY ("segment_id","condition_path","event_id")
);

-- CreateIndex
CREATE INDEX "segment_event_hits_segment_id_customer_id_condition_path_oc_idx" ON "segment_event_hits"("segment_id", "customer_id", "condition_path", "occurred_at");

-- AddForeignKey
ALTER TABLE "segment_event_hits" ADD CONSTRAINT "segment_event_hits_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

