-- Google Calendar connections. Seed 001 kept `google_calendar_tokens` in plain text, never refreshed them and never
-- said when one stopped working. Here the tokens are sealed (AES-GCM, the key id beside them so keys can rotate),
-- refreshed before they expire, and a refresh Google refuses marks the connection `broken` with an alert row that
-- the console shows until someone reconnects.

CREATE TABLE calendar.connections (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    provider text NOT NULL DEFAULT 'google' CHECK (provider = 'google'),
    -- pending: the OAuth consent is under way; active; broken: Google refused the refresh token; disconnected
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'broken', 'disconnected')),
    calendar_id text NOT NULL DEFAULT 'primary' CHECK (length(calendar_id) BETWEEN 1 AND 256),
    -- the Google account (the primary calendar's id is its email), known once connected
    account text CHECK (length(account) <= 256),
    -- a virtual meeting booked on this calendar gets a Google Meet link
    create_meet_links boolean NOT NULL DEFAULT false,
    access_token bytea,
    refresh_token bytea,
    key_id text,
    token_expires_at timestamptz,
    scope text,
    -- the last events.list nextSyncToken; NULL: the next sync is a full one
    sync_token text,
    synced_at timestamptz,
    -- while a syncer works on it, until when (another replica leaves it alone)
    sync_lease_until timestamptz,
    last_error text CHECK (length(last_error) <= 500),
    broken_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (agent_id, tenant_id) REFERENCES calendar.agents (id, tenant_id),
    -- tokens are there exactly when the connection may use them
    CONSTRAINT connections_tokens CHECK ((status IN ('active', 'broken')) = (refresh_token IS NOT NULL AND key_id IS NOT NULL))
);
-- one live connection per agent
CREATE UNIQUE INDEX connections_agent ON calendar.connections (agent_id) WHERE status <> 'disconnected';
CREATE INDEX connections_tenant ON calendar.connections (tenant_id, created_at);

-- An OAuth consent under way: the state sent to Google (only its hash kept) and the PKCE verifier, sealed, that the
-- callback needs to redeem the code. A state is used once and lives ten minutes.
CREATE TABLE calendar.oauth_states (
    state_hash text PRIMARY KEY CHECK (state_hash ~ '^[0-9a-f]{64}$'),
    connection_id uuid NOT NULL REFERENCES calendar.connections (id) ON DELETE CASCADE,
    code_verifier bytea NOT NULL,
    key_id text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

-- Busy times read from the connected calendar (events.list, kept by incremental sync). Events Sokoni itself wrote for
-- its appointments are not copied: the appointment already occupies its time.
CREATE TABLE calendar.external_busy (
    connection_id uuid NOT NULL REFERENCES calendar.connections (id) ON DELETE CASCADE,
    event_id text NOT NULL,
    agent_id uuid NOT NULL,
    during tstzrange NOT NULL CHECK (NOT isempty(during)),
    summary text,
    PRIMARY KEY (connection_id, event_id)
);
CREATE INDEX external_busy_agent ON calendar.external_busy USING gist (agent_id, during);

-- The Google event of each appointment pushed to a calendar (its id is the appointment's own, so a retried insert
-- finds the first one rather than making a second).
CREATE TABLE calendar.google_events (
    appointment_id uuid PRIMARY KEY REFERENCES calendar.appointments (id) ON DELETE CASCADE,
    connection_id uuid NOT NULL REFERENCES calendar.connections (id) ON DELETE CASCADE,
    event_id text NOT NULL,
    html_link text,
    deleted boolean NOT NULL DEFAULT false,
    synced_at timestamptz NOT NULL DEFAULT now()
);

-- What the tenant's admins are told: a connection that broke, and why.
CREATE TABLE calendar.connection_alerts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    connection_id uuid NOT NULL REFERENCES calendar.connections (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('refresh_failed')),
    message text NOT NULL CHECK (length(message) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
CREATE INDEX connection_alerts_open ON calendar.connection_alerts (tenant_id, created_at) WHERE resolved_at IS NULL;

-- where a broken connection is also announced (through messaging, like reminders): the admin's phone
ALTER TABLE calendar.settings ADD COLUMN alert_phone text CHECK (alert_phone ~ '^\+[1-9][0-9]{6,14}$');
