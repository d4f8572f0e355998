-- CreateTable
CREATE TABLE "delivery_providers" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "channel" "delivery_channel" NOT NULL,
    "provider" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "secret_ciphertext" BYTEA NOT NULL,
    "secret_iv" BYTEA NOT NULL,
    "secret_auth_tag" BYTEA NOT NULL,
    "secret_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "delivery_providers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ad_audiences" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "segment_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "external_audience_id" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "secret_ciphertext" BYTEA NOT NULL,
    "secret_iv" BYTEA NOT NULL,
    "secret_auth_tag" BYTEA NOT NULL,
    "secret_key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ad_audiences_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "delivery_providers_workspace_id_channel_key" ON "delivery_providers"("workspace_id", "channel");

-- CreateIndex
CREATE INDEX "ad_audiences_workspace_id_segment_id_idx" ON "ad_audiences"("workspace_id", "segment_id");

-- CreateIndex
CREATE UNIQUE INDEX "ad_audiences_workspace_id_provider_external_audience_id_key" ON "ad_audiences"("workspace_id", "provider", "external_audience_id");

-- AddForeignKey
ALTER TABLE "delivery_providers" ADD CONSTRAINT "delivery_providers_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ad_audiences" ADD CONSTRAINT "ad_audiences_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

