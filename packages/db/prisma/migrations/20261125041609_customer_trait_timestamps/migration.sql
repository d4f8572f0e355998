-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "trait_timestamps" JSONB NOT NULL DEFAULT '{}';

