-- The gateway's rate limits across replicas. Each replica lets requests through on its own buckets (no database
-- round trip per request), writes what it let through per principal here every few hundred milliseconds in one
-- statement, and takes what the others wrote off its own buckets. Unlogged: counts of the last seconds are worth
-- nothing after a crash, and not worth a WAL write each.
CREATE UNLOGGED TABLE identity.rate_usage (
    id bigserial PRIMARY KEY,
    replica uuid NOT NULL,
    principal text NOT NULL,
    n int NOT NULL CHECK (n > 0),
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rate_usage_at ON identity.rate_usage (at);
