-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "request_seq" BIGINT;

