-- AlterTable
ALTER TABLE "workspaces" ADD COLUMN     "inactive_customer_retention_days" INTEGER NOT NULL DEFAULT 0;

