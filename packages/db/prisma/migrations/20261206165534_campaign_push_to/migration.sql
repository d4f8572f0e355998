-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "push_to" TEXT;

