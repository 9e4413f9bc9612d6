-- Daily analytics per tenant and UTC day (seed 004's `analytics` table, whose figures were typed in and disagreed
-- with the calls, bookings and messages they summed). Here each day's figures are computed: agent-core's own from its
-- rows (calls, leads, LLM costs), the others' from what messaging, calendar-booking and vouchers count of theirs
-- (`GET /v1/<service>/daily`), and kept as a cache: a day is `complete` once computed with every service answering
-- after it ended; today and yesterday are recomputed by a job, and a day any service could not count is never cached
-- as complete.
CREATE TABLE agent.analytics_daily (
    tenant_id uuid NOT NULL,
    day date NOT NULL,
    figures jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    complete boolean NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, day)
);
