-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "send_job_id" TEXT;

