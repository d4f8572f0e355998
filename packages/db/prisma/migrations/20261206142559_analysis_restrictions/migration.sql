-- AlterTable
ALTER TABLE "segment_memberships" ADD COLUMN     "ended_by_restriction" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "restricted_customers" (
    "customer_id" TEXT NOT NULL,
    "workspace_id" TEXT NOT NULL,
    "restricted" BOOLEAN NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "restricted_customers_pkey" PRIMARY KEY ("customer_id")
);

