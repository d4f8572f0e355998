-- AlterTable
ALTER TABLE "customers" ADD COLUMN     "bounced_email" TEXT;

