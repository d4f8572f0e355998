-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "source_kind" AS ENUM ('web', 'app', 'server', 'branch', 'call_centre', 'import', 'webhook', 'operational_db');

-- CreateEnum
CREATE TYPE "lifecycle_stage" AS ENUM ('potential', 'prospect', 'contracted');

-- CreateEnum
CREATE TYPE "gender" AS ENUM ('female', 'male', 'other', 'unknown');

-- CreateEnum
CREATE TYPE "customer_type" AS ENUM ('individual', 'business');

-- CreateEnum
CREATE TYPE "event_type" AS ENUM ('track', 'identify', 'page', 'screen', 'group', 'alias', 'system');

-- CreateEnum
CREATE TYPE "channel" AS ENUM ('web', 'app', 'branch', 'call_centre', 'email', 'sms', 'push', 'ad', 'partner', 'operational', 'other');

-- CreateEnum
CREATE TYPE "journey_stage" AS ENUM ('inflow', 'explore_compare', 'purchase', 'use');

-- CreateEnum
CREATE TYPE "product_type" AS ENUM ('deposit', 'loan', 'card', 'insurance', 'investment', 'other');

-- CreateEnum
CREATE TYPE "contract_status" AS ENUM ('active', 'closed', 'lapsed');

-- CreateEnum
CREATE TYPE "transaction_kind" AS ENUM ('deposit', 'withdrawal', 'payment', 'transfer', 'fee', 'claim');

-- CreateEnum
CREATE TYPE "consent_purpose" AS ENUM ('marketing', 'profiling', 'third_party_sharing');

-- CreateEnum
CREATE TYPE "consent_channel" AS ENUM ('email', 'sms', 'push', 'phone', 'post', 'any');

-- CreateEnum
CREATE TYPE "consent_status" AS ENUM ('granted', 'withdrawn');

-- CreateEnum
CREATE TYPE "device_platform" AS ENUM ('ios', 'android', 'web');

-- CreateEnum
CREATE TYPE "push_provider" AS ENUM ('fcm', 'apns');

-- CreateEnum
CREATE TYPE "segment_status" AS ENUM ('active', 'archived');

-- CreateEnum
CREATE TYPE "segment_kind" AS ENUM ('realtime', 'batch');

-- CreateEnum
CREATE TYPE "campaign_status" AS ENUM ('draft', 'active', 'paused', 'completed', 'archived');

-- CreateEnum
CREATE TYPE "campaign_run_status" AS ENUM ('queued', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "delivery_channel" AS ENUM ('email', 'sms', 'push', 'webhook', 'ad_audience');

-- CreateEnum
CREATE TYPE "message_status" AS ENUM ('queued', 'sending', 'sent', 'delivered', 'bounced', 'complained', 'opened', 'clicked', 'failed', 'unknown');

-- CreateTable
CREATE TABLE "workspaces" (
    "id" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "national_id_hmac_key_ref" TEXT,
    "default_locale" TEXT NOT NULL DEFAULT 'ko-KR',
    "timezone" TEXT NOT NULL DEFAULT 'Asia/Seoul',
    "event_retention_days" INTEGER NOT NULL DEFAULT 730,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sources" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "source_kind" NOT NULL,
    "write_key_hash" TEXT NOT NULL,
    "write_key_prefix" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "description" TEXT,
    "settings" JSONB NOT NULL DEFAULT '{}',
    "last_event_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sources_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "key_hash" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customers" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_code" TEXT NOT NULL,
    "lifecycle_stage" "lifecycle_stage" NOT NULL DEFAULT 'potential',
    "gender" "gender",
    "birth_date" DATE,
    "customer_value" DECIMAL(20,4),
    "customer_type" "customer_type",
    "email" TEXT,
    "phone" TEXT,
    "postal_address" JSONB,
    "preferences" JSONB NOT NULL DEFAULT '{}',
    "traits" JSONB NOT NULL DEFAULT '{}',
    "locale" TEXT,
    "timezone" TEXT,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "merged_into_id" TEXT,
    "merged_at" TIMESTAMPTZ(3),
    "retention_expires_at" TIMESTAMPTZ(3),
    "erased_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "identities" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "source_id" TEXT,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" BIGSERIAL NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT,
    "message_id" TEXT NOT NULL,
    "source_id" TEXT,
    "type" "event_type" NOT NULL,
    "name" TEXT,
    "channel" "channel" NOT NULL,
    "journey_stage" "journey_stage",
    "properties" JSONB NOT NULL DEFAULT '{}',
    "context" JSONB NOT NULL DEFAULT '{}',
    "anonymous_id" TEXT,
    "user_id" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stored_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "event_message_ids" (
    "workspace_id" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "event_id" BIGINT NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "event_message_ids_pkey" PRIMARY KEY ("workspace_id","message_id")
);

-- CreateTable
CREATE TABLE "contracts" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "product_code" TEXT NOT NULL,
    "product_name" TEXT NOT NULL,
    "product_type" "product_type" NOT NULL,
    "contract_number_hash" TEXT,
    "status" "contract_status" NOT NULL DEFAULT 'active',
    "amount" DECIMAL(20,4),
    "currency" CHAR(3),
    "opened_at" TIMESTAMPTZ(3) NOT NULL,
    "matures_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),
    "source_system" TEXT NOT NULL,
    "external_ref" TEXT NOT NULL,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "contracts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_transactions" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "contract_id" TEXT,
    "kind" "transaction_kind" NOT NULL,
    "amount" DECIMAL(20,4) NOT NULL,
    "currency" CHAR(3) NOT NULL,
    "channel" "channel",
    "description" TEXT,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "source_system" TEXT NOT NULL,
    "external_ref" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_transactions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consultations" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "channel" "channel" NOT NULL,
    "topic" TEXT NOT NULL,
    "summary" TEXT,
    "agent_ref" TEXT,
    "outcome" TEXT,
    "duration_seconds" INTEGER,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "source_system" TEXT,
    "external_ref" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consultations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consents" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "purpose" "consent_purpose" NOT NULL,
    "channel" "consent_channel" NOT NULL,
    "status" "consent_status" NOT NULL,
    "source" TEXT NOT NULL,
    "evidence" JSONB NOT NULL DEFAULT '{}',
    "granted_at" TIMESTAMPTZ(3),
    "withdrawn_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "device_tokens" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "platform" "device_platform" NOT NULL,
    "provider" "push_provider" NOT NULL,
    "token" TEXT NOT NULL,
    "app_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "device_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "web_push_subscriptions" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "p256dh" TEXT NOT NULL,
    "auth" TEXT NOT NULL,
    "user_agent" TEXT,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "web_push_subscriptions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segments" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "definition" JSONB NOT NULL,
    "status" "segment_status" NOT NULL DEFAULT 'active',
    "kind" "segment_kind" NOT NULL DEFAULT 'batch',
    "member_count" INTEGER NOT NULL DEFAULT 0,
    "last_evaluated_at" TIMESTAMPTZ(3),
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "segments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "segment_memberships" (
    "segment_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "entered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "exited_at" TIMESTAMPTZ(3),

    CONSTRAINT "segment_memberships_pkey" PRIMARY KEY ("segment_id","customer_id")
);

-- CreateTable
CREATE TABLE "scores" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "model_version" TEXT NOT NULL,
    "explanation" JSONB,
    "computed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scores_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "personas" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "definition" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "personas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "persona_assignments" (
    "persona_id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "assigned_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confidence" DOUBLE PRECISION,

    CONSTRAINT "persona_assignments_pkey" PRIMARY KEY ("persona_id","customer_id")
);

-- CreateTable
CREATE TABLE "campaigns" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "status" "campaign_status" NOT NULL DEFAULT 'draft',
    "trigger" JSONB NOT NULL,
    "channel" "delivery_channel" NOT NULL,
    "template" JSONB NOT NULL,
    "schedule" JSONB,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_runs" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "campaign_id" TEXT NOT NULL,
    "status" "campaign_run_status" NOT NULL DEFAULT 'running',
    "triggered_by" TEXT,
    "stats" JSONB NOT NULL DEFAULT '{}',
    "error" TEXT,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "campaign_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "campaign_id" TEXT,
    "campaign_run_id" TEXT,
    "customer_id" TEXT NOT NULL,
    "channel" "delivery_channel" NOT NULL,
    "provider" TEXT,
    "recipient" TEXT NOT NULL,
    "status" "message_status" NOT NULL DEFAULT 'queued',
    "provider_message_id" TEXT,
    "error" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),
    "delivered_at" TIMESTAMPTZ(3),
    "opened_at" TIMESTAMPTZ(3),
    "clicked_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_logs" (
    "id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "entity_type" TEXT NOT NULL,
    "entity_id" TEXT NOT NULL,
    "before" JSONB,
    "after" JSONB,
    "service" TEXT NOT NULL DEFAULT 'collection',
    "request_id" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "workspaces_slug_key" ON "workspaces"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "sources_write_key_hash_key" ON "sources"("write_key_hash");

-- CreateIndex
CREATE UNIQUE INDEX "sources_workspace_id_name_key" ON "sources"("workspace_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_key_hash_key" ON "api_keys"("key_hash");

-- CreateIndex
CREATE INDEX "api_keys_workspace_id_idx" ON "api_keys"("workspace_id");

-- CreateIndex
CREATE INDEX "customers_workspace_id_email_idx" ON "customers"("workspace_id", "email");

-- CreateIndex
CREATE INDEX "customers_workspace_id_phone_idx" ON "customers"("workspace_id", "phone");

-- CreateIndex
CREATE INDEX "customers_workspace_id_lifecycle_stage_idx" ON "customers"("workspace_id", "lifecycle_stage");

-- CreateIndex
CREATE INDEX "customers_workspace_id_last_seen_at_idx" ON "customers"("workspace_id", "last_seen_at");

-- CreateIndex
CREATE INDEX "customers_merged_into_id_idx" ON "customers"("merged_into_id");

-- CreateIndex
CREATE INDEX "customers_workspace_id_retention_expires_at_idx" ON "customers"("workspace_id", "retention_expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "customers_workspace_id_customer_code_key" ON "customers"("workspace_id", "customer_code");

-- CreateIndex
CREATE INDEX "identities_customer_id_idx" ON "identities"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "identities_workspace_id_type_value_key" ON "identities"("workspace_id", "type", "value");

-- CreateIndex
CREATE INDEX "events_workspace_id_customer_id_occurred_at_idx" ON "events"("workspace_id", "customer_id", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "events_workspace_id_name_occurred_at_idx" ON "events"("workspace_id", "name", "occurred_at");

-- CreateIndex
CREATE INDEX "events_workspace_id_received_at_idx" ON "events"("workspace_id", "received_at");

-- CreateIndex
CREATE INDEX "events_workspace_id_anonymous_id_idx" ON "events"("workspace_id", "anonymous_id");

-- CreateIndex
CREATE INDEX "event_message_ids_received_at_idx" ON "event_message_ids"("received_at");

-- CreateIndex
CREATE INDEX "contracts_workspace_id_customer_id_idx" ON "contracts"("workspace_id", "customer_id");

-- CreateIndex
CREATE INDEX "contracts_workspace_id_product_type_status_idx" ON "contracts"("workspace_id", "product_type", "status");

-- CreateIndex
CREATE UNIQUE INDEX "contracts_workspace_id_source_system_external_ref_key" ON "contracts"("workspace_id", "source_system", "external_ref");

-- CreateIndex
CREATE INDEX "account_transactions_workspace_id_customer_id_occurred_at_idx" ON "account_transactions"("workspace_id", "customer_id", "occurred_at" DESC);

-- CreateIndex
CREATE INDEX "account_transactions_contract_id_idx" ON "account_transactions"("contract_id");

-- CreateIndex
CREATE UNIQUE INDEX "account_transactions_workspace_id_source_system_external_re_key" ON "account_transactions"("workspace_id", "source_system", "external_ref");

-- CreateIndex
CREATE INDEX "consultations_workspace_id_customer_id_occurred_at_idx" ON "consultations"("workspace_id", "customer_id", "occurred_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "consultations_workspace_id_source_system_external_ref_key" ON "consultations"("workspace_id", "source_system", "external_ref");

-- CreateIndex
CREATE INDEX "consents_workspace_id_expires_at_idx" ON "consents"("workspace_id", "expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "consents_workspace_id_customer_id_purpose_channel_key" ON "consents"("workspace_id", "customer_id", "purpose", "channel");

-- CreateIndex
CREATE INDEX "device_tokens_customer_id_idx" ON "device_tokens"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "device_tokens_workspace_id_token_key" ON "device_tokens"("workspace_id", "token");

-- CreateIndex
CREATE INDEX "web_push_subscriptions_customer_id_idx" ON "web_push_subscriptions"("customer_id");

-- CreateIndex
CREATE UNIQUE INDEX "web_push_subscriptions_workspace_id_endpoint_key" ON "web_push_subscriptions"("workspace_id", "endpoint");

-- CreateIndex
CREATE UNIQUE INDEX "segments_workspace_id_name_key" ON "segments"("workspace_id", "name");

-- CreateIndex
CREATE INDEX "segment_memberships_workspace_id_customer_id_idx" ON "segment_memberships"("workspace_id", "customer_id");

-- CreateIndex
CREATE INDEX "segment_memberships_segment_id_exited_at_idx" ON "segment_memberships"("segment_id", "exited_at");

-- CreateIndex
CREATE INDEX "scores_workspace_id_model_value_idx" ON "scores"("workspace_id", "model", "value");

-- CreateIndex
CREATE UNIQUE INDEX "scores_workspace_id_customer_id_model_key" ON "scores"("workspace_id", "customer_id", "model");

-- CreateIndex
CREATE UNIQUE INDEX "personas_workspace_id_name_key" ON "personas"("workspace_id", "name");

-- CreateIndex
CREATE INDEX "persona_assignments_workspace_id_customer_id_idx" ON "persona_assignments"("workspace_id", "customer_id");

-- CreateIndex
CREATE INDEX "campaigns_workspace_id_status_idx" ON "campaigns"("workspace_id", "status");

-- CreateIndex
CREATE INDEX "campaign_runs_campaign_id_started_at_idx" ON "campaign_runs"("campaign_id", "started_at" DESC);

-- CreateIndex
CREATE INDEX "campaign_runs_workspace_id_status_idx" ON "campaign_runs"("workspace_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "messages_idempotency_key_key" ON "messages"("idempotency_key");

-- CreateIndex
CREATE INDEX "messages_workspace_id_customer_id_requested_at_idx" ON "messages"("workspace_id", "customer_id", "requested_at" DESC);

-- CreateIndex
CREATE INDEX "messages_campaign_run_id_status_idx" ON "messages"("campaign_run_id", "status");

-- CreateIndex
CREATE INDEX "messages_provider_provider_message_id_idx" ON "messages"("provider", "provider_message_id");

-- CreateIndex
CREATE INDEX "messages_workspace_id_status_requested_at_idx" ON "messages"("workspace_id", "status", "requested_at");

-- CreateIndex
CREATE INDEX "audit_logs_workspace_id_entity_type_entity_id_at_idx" ON "audit_logs"("workspace_id", "entity_type", "entity_id", "at");

-- CreateIndex
CREATE INDEX "audit_logs_workspace_id_at_idx" ON "audit_logs"("workspace_id", "at");

-- AddForeignKey
ALTER TABLE "sources" ADD CONSTRAINT "sources_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customers" ADD CONSTRAINT "customers_merged_into_id_fkey" FOREIGN KEY ("merged_into_id") REFERENCES "customers"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identities" ADD CONSTRAINT "identities_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identities" ADD CONSTRAINT "identities_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "identities" ADD CONSTRAINT "identities_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "events" ADD CONSTRAINT "events_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "event_message_ids" ADD CONSTRAINT "event_message_ids_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "contracts" ADD CONSTRAINT "contracts_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_transactions" ADD CONSTRAINT "account_transactions_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_transactions" ADD CONSTRAINT "account_transactions_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "account_transactions" ADD CONSTRAINT "account_transactions_contract_id_fkey" FOREIGN KEY ("contract_id") REFERENCES "contracts"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consultations" ADD CONSTRAINT "consultations_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consultations" ADD CONSTRAINT "consultations_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consents" ADD CONSTRAINT "consents_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consents" ADD CONSTRAINT "consents_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_tokens" ADD CONSTRAINT "device_tokens_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "device_tokens" ADD CONSTRAINT "device_tokens_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "web_push_subscriptions" ADD CONSTRAINT "web_push_subscriptions_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "web_push_subscriptions" ADD CONSTRAINT "web_push_subscriptions_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "segments" ADD CONSTRAINT "segments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "segment_memberships" ADD CONSTRAINT "segment_memberships_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "segment_memberships" ADD CONSTRAINT "segment_memberships_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "segment_memberships" ADD CONSTRAINT "segment_memberships_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scores" ADD CONSTRAINT "scores_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scores" ADD CONSTRAINT "scores_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "personas" ADD CONSTRAINT "personas_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "persona_assignments" ADD CONSTRAINT "persona_assignments_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "persona_assignments" ADD CONSTRAINT "persona_assignments_persona_id_fkey" FOREIGN KEY ("persona_id") REFERENCES "personas"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "persona_assignments" ADD CONSTRAINT "persona_assignments_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_runs" ADD CONSTRAINT "campaign_runs_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_runs" ADD CONSTRAINT "campaign_runs_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_campaign_run_id_fkey" FOREIGN KEY ("campaign_run_id") REFERENCES "campaign_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

