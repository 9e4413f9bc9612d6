-- Usage credits (seed 001 `credits`: remaining and used, never negative): every AI reply costs a credit. agent-core
-- reserves one before it calls a model and settles or releases it afterwards, so that a tenant out of credits gets
-- the offline responder instead of a bill, and concurrent replies can never spend the last credit twice.
--
-- * `remaining` counts credits not yet used, `reserved` the part of them held by replies in flight: the checks keep
--   both at zero or more and `reserved` within `remaining`, so no race can overspend;
-- * a reservation is made once per reference (the inbound message's id): a retried reply job reserves nothing new;
--   it is settled once (used), released (the model was not called) or expired by the sweeper (its reply never came);
-- * every grant, top-up and use is an event, for the per-day usage chart and the audit of where credits went;
-- * one alert per tenant, kind and top-up episode, however many replies find the credits gone at once.

CREATE TABLE wallet.credit_balances (
    tenant_id uuid PRIMARY KEY,
    remaining bigint NOT NULL CHECK (remaining >= 0),
    reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    used bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
    -- grants and top-ups so far: an alert is raised once per episode between two of them
    episode integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_balances_reserved_within CHECK (reserved <= remaining)
);

CREATE TABLE wallet.credit_reservations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
    credits integer NOT NULL CHECK (credits BETWEEN 1 AND 1000),
    status text NOT NULL DEFAULT 'reserved' CHECK (status IN ('reserved', 'settled', 'released', 'expired')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT credit_reservations_reference_key UNIQUE (tenant_id, reference),
    CONSTRAINT credit_reservations_resolved CHECK ((status = 'reserved') = (resolved_at IS NULL))
);
CREATE INDEX credit_reservations_due ON wallet.credit_reservations (expires_at) WHERE status = 'reserved';

CREATE TABLE wallet.credit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('grant', 'topup', 'usage')),
    credits bigint NOT NULL CHECK (credits > 0),
    reference text CHECK (length(reference) <= 255),
    reason text CHECK (length(reason) <= 500),
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_events_by_tenant ON wallet.credit_events (tenant_id, created_at);
-- a top-up is made once per Idempotency-Key
CREATE UNIQUE INDEX credit_events_topup_key ON wallet.credit_events (tenant_id, reference) WHERE kind IN ('grant', 'topup');

CREATE TABLE wallet.credit_alerts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('low', 'exhausted')),
    episode integer NOT NULL,
    remaining bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_alerts_once UNIQUE (tenant_id, kind, episode)
);
