-- AlterTable
ALTER TABLE "frequency_caps" DROP CONSTRAINT "frequency_caps_pkey",
ADD COLUMN     "channel" TEXT NOT NULL DEFAULT 'any',
ADD CONSTRAINT "frequency_caps_pkey" PRIMARY KEY ("workspace_id", "channel");

