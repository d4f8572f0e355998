-- AlterTable
ALTER TABLE "segment_memberships" ADD COLUMN     "ended_by_merge" TEXT,
ADD COLUMN     "gained_by_merge" TEXT;

