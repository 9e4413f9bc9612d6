-- ServiceKit's tables, created in every service's schema (the migrator sets search_path to it).

-- Outgoing work, enqueued in the same transaction as the change that causes it.
CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'dead')),
    attempts int NOT NULL DEFAULT 0,
    max_attempts int NOT NULL DEFAULT 12 CHECK (max_attempts > 0),
    run_at timestamptz NOT NULL DEFAULT now(),
    locked_at timestamptz,
    locked_by text,
    last_error text,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 'queued';
CREATE INDEX jobs_running ON jobs (locked_at) WHERE status = 'running';

-- First responses of creating requests, by caller and Idempotency-Key.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status_code int,
    response_body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- Who changed what, written in the transaction of the change.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    tenant_id uuid,
    actor text NOT NULL,
    action text NOT NULL,
    target_table text NOT NULL,
    target_id text NOT NULL,
    diff jsonb NOT NULL,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_target ON audit_log (target_table, target_id, created_at);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, created_at);
