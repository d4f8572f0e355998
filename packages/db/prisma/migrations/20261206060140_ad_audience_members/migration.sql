-- CreateTable
CREATE TABLE "ad_audience_members" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "audience_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "email_sha256" TEXT NOT NULL,
    "phone_sha256" TEXT NOT NULL,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ad_audience_members_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ad_audience_members_workspace_id_customer_id_idx" ON "ad_audience_members"("workspace_id", "customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "ad_audience_members_audience_id_customer_id_key" ON "ad_audience_members"("audience_id", "customer_id");

-- AddForeignKey
ALTER TABLE "ad_audience_members" ADD CONSTRAINT "ad_audience_members_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ad_audience_members" ADD CONSTRAINT "ad_audience_members_audience_id_fkey" FOREIGN KEY ("audience_id") REFERENCES "ad_audiences"("id") ON DELETE CASCADE ON UPDATE CASCADE;

