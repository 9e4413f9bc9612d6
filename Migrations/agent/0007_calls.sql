-- Voice calls with their transcripts and dispositions (seeds 000, 003, 004), ingested from the voice provider's
-- end-of-call report. Seed 004 typed call rows in by hand and seed 003 kept transcripts as one text blob; here a call
-- arrives once per provider call id (a report delivered twice is one call), its transcript is kept line by line with
-- speaker, offset and confidence, and the provider's webhook is checked against a secret only this tenant holds.

-- a tenant's voice provider webhook: the public id in its URL and the signing secret, sealed
CREATE TABLE agent.voice_settings (
    tenant_id uuid PRIMARY KEY,
    provider text NOT NULL DEFAULT 'vapi' CHECK (provider IN ('vapi')),
    public_id text NOT NULL UNIQUE CHECK (public_id ~ '^vw_[A-Za-z0-9_-]{20,64}$'),
    secret bytea NOT NULL,
    key_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent.calls (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    lead_id uuid REFERENCES agent.leads (id),
    provider text NOT NULL CHECK (provider IN ('vapi', 'manual')),
    provider_call_id text NOT NULL CHECK (length(provider_call_id) BETWEEN 1 AND 200),
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    platform text NOT NULL DEFAULT 'pstn' CHECK (platform IN ('pstn', 'sip', 'web')),
    status text NOT NULL CHECK (status IN ('in-progress', 'completed', 'failed', 'no-answer', 'busy')),
    customer_number text CHECK (customer_number ~ '^\+[1-9][0-9]{6,14}$'),
    started_at timestamptz,
    ended_at timestamptz,
    duration_seconds integer CHECK (duration_seconds >= 0),
    recording_url text CHECK (length(recording_url) <= 2048),
    summary text CHECK (length(summary) <= 4000),
    sentiment text CHECK (sentiment IN ('positive', 'neutral', 'negative')),
    -- what the provider charged, in millionths of the currency
    cost_micros bigint CHECK (cost_micros >= 0),
    cost_currency text CHECK (cost_currency ~ '^[A-Z]{3}$'),
    ended_reason text CHECK (length(ended_reason) <= 200),
    handoff_target text CHECK (length(handoff_target) <= 200),
    region text CHECK (length(region) <= 100),
    score_delta integer,
    stage_after text,
    appointment_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT calls_once UNIQUE (tenant_id, provider, provider_call_id),
    CONSTRAINT calls_order CHECK (ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX calls_list ON agent.calls (tenant_id, created_at DESC, id);
CREATE INDEX calls_lead ON agent.calls (lead_id, created_at DESC);

CREATE TABLE agent.call_transcript_lines (
    call_id uuid NOT NULL REFERENCES agent.calls (id) ON DELETE CASCADE,
    line_no integer NOT NULL CHECK (line_no >= 0),
    speaker text NOT NULL CHECK (speaker IN ('agent', 'customer', 'system')),
    text text NOT NULL CHECK (length(text) <= 8000),
    offset_ms integer NOT NULL CHECK (offset_ms >= 0),
    confidence real CHECK (confidence BETWEEN 0 AND 1),
    PRIMARY KEY (call_id, line_no)
);

-- what a person concluded about a call (seed 000 Disposition: a code and notes)
CREATE TABLE agent.call_dispositions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    call_id uuid NOT NULL REFERENCES agent.calls (id),
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
    notes text CHECK (length(notes) <= 2000),
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_dispositions_call ON agent.call_dispositions (call_id, created_at);

-- Who new leads go to: the tenant's people on duty, taken in turn (a rule may narrow them by the lead's language or
-- tags). The turn is a counter moved in the transaction that assigns, so concurrent leads are shared out evenly.
CREATE TABLE agent.assignment_members (
    tenant_id uuid NOT NULL,
    user_id uuid NOT NULL,
    on_duty boolean NOT NULL DEFAULT true,
    -- empty: any language / any tags
    languages text[] NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    position integer NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE TABLE agent.assignment_turns (
    tenant_id uuid PRIMARY KEY,
    turn bigint NOT NULL DEFAULT 0
);
