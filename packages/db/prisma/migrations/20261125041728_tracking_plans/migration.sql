-- CreateEnum
CREATE TYPE "tracking_plan_mode" AS ENUM ('report', 'block');

-- CreateEnum
CREATE TYPE "unplanned_event_policy" AS ENUM ('allow', 'report', 'block');

-- CreateTable
CREATE TABLE "tracking_plan_rules" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "source_id" TEXT,
    "call_type" "event_type" NOT NULL,
    "event_name" TEXT,
    "schema" JSONB NOT NULL,
    "mode" "tracking_plan_mode" NOT NULL,
    "description" TEXT,
    "updated_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_plan_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_plan_policies" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "source_id" TEXT,
    "unplanned_events" "unplanned_event_policy" NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tracking_plan_policies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracking_plan_violations" (
    "workspace_id" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "call_type" "event_type" NOT NULL,
    "event_name" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "hour" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL,
    "blocked_count" INTEGER NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_message_id" TEXT NOT NULL,
    "last_sample" JSONB NOT NULL,

    CONSTRAINT "tracking_plan_violations_pkey" PRIMARY KEY ("workspace_id","source_id","call_type","event_name","path","reason","hour")
);

-- CreateTable
CREATE TABLE "event_dictionary_entries" (
    "workspace_id" TEXT NOT NULL,
    "source_id" TEXT NOT NULL,
    "call_type" "event_type" NOT NULL,
    "event_name" TEXT NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "count" BIGINT NOT NULL,
    "properties" JSONB NOT NULL,

    CONSTRAINT "event_dictionary_entries_pkey" PRIMARY KEY ("workspace_id","source_id","call_type","event_name")
);

-- CreateIndex
CREATE INDEX "tracking_plan_rules_workspace_id_source_id_idx" ON "tracking_plan_rules"("workspace_id", "source_id");

-- CreateIndex
CREATE INDEX "tracking_plan_policies_workspace_id_source_id_idx" ON "tracking_plan_policies"("workspace_id", "source_id");

-- CreateIndex
CREATE INDEX "tracking_plan_violations_workspace_id_hour_idx" ON "tracking_plan_violations"("workspace_id", "hour");

-- AddForeignKey
ALTER TABLE "tracking_plan_rules" ADD CONSTRAINT "tracking_plan_rules_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_plan_rules" ADD CONSTRAINT "tracking_plan_rules_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_plan_policies" ADD CONSTRAINT "tracking_plan_policies_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_plan_policies" ADD CONSTRAINT "tracking_plan_policies_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_plan_violations" ADD CONSTRAINT "tracking_plan_violations_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracking_plan_violations" ADD CONSTRAINT "tracking_plan_violations_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_dictionary_entries" ADD CONSTRAINT "event_dictionary_entries_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_dictionary_entries" ADD CONSTRAINT "event_dictionary_entries_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;

