-- CreateTable
CREATE TABLE "score_parameters" (
    "workspace_id" TEXT NOT NULL,
    "half_life_days" DOUBLE PRECISION NOT NULL,
    "events_midpoint" DOUBLE PRECISION NOT NULL,
    "revenue_midpoint" DOUBLE PRECISION NOT NULL,
    "updated_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "score_parameters_pkey" PRIMARY KEY ("workspace_id")
);

