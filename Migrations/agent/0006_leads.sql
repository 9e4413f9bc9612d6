-- Leads, their pipeline, their timeline and the extractions their conversations yield: the CRM half of agent-core.
--
-- What the seeds got wrong and this schema refuses:
-- * Seed 003 and seed 000 each kept leads with nothing stopping two rows for one phone; a second record came in with
--   every new channel. Here a phone belongs to one lead of a tenant (`lead_phones`, its primary key), so a second
--   create of the phone finds the first lead, and a merge moves the other lead's phones and history to the survivor.
-- * Seed 001 stored the LLM's own numbers as the lead's score. Here an extraction stores only features (each 1–3,
--   checked by the database too), and the total, the temperature and the 0–100 score are computed in code; every
--   change of the score or the stage has a timeline row that says why.
-- * `stage_entered_at` was set by the client; here it moves with the stage, in the statement that moves it.

-- the tenant's pipeline: its stages in order, `won` and `lost` the closing ones
CREATE TABLE agent.pipeline_stages (
    tenant_id uuid NOT NULL,
    key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    position integer NOT NULL CHECK (position >= 0),
    kind text NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost')),
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE agent.leads (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    -- the phone the lead came in with (E.164); every phone of the lead is in lead_phones
    phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    name text CHECK (length(name) <= 200),
    email text CHECK (length(email) <= 254),
    company text CHECK (length(company) <= 200),
    status text NOT NULL DEFAULT 'cold' CHECK (status IN ('cold', 'warm', 'hot', 'converted', 'lost')),
    score integer NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 100),
    -- {base, behavior, engagement}: the parts the score is the sum of
    score_components jsonb NOT NULL DEFAULT '{"base":0,"behavior":0,"engagement":0}' CHECK (jsonb_typeof(score_components) = 'object'),
    stage text NOT NULL,
    stage_entered_at timestamptz NOT NULL DEFAULT now(),
    -- the gateway user working the lead
    assignee_id uuid,
    treatment text NOT NULL DEFAULT 'automated_chat' CHECK (treatment IN ('automated_chat', 'automated_call', 'manual_follow_up', 'hold')),
    next_action_at timestamptz,
    tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 30),
    opt_in boolean NOT NULL DEFAULT true,
    locale text CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$'),
    last_contact_at timestamptz,
    source text NOT NULL DEFAULT 'manual' CHECK (source IN ('whatsapp', 'sms', 'telegram', 'instagram', 'webchat', 'email', 'voice', 'web', 'import', 'manual')),
    -- counts the behaviour part of the score is made of
    replies integer NOT NULL DEFAULT 0 CHECK (replies >= 0),
    bookings integer NOT NULL DEFAULT 0 CHECK (bookings >= 0),
    clicks integer NOT NULL DEFAULT 0 CHECK (clicks >= 0),
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    -- what the deal is worth, in minor units of its currency (the pipeline's value per stage)
    deal_value bigint CHECK (deal_value >= 0),
    deal_currency text CHECK (deal_currency ~ '^[A-Z]{3}$'),
    CONSTRAINT leads_deal CHECK ((deal_value IS NULL) = (deal_currency IS NULL)),
    -- a lead merged into another stays as a pointer (its id may be in other services' rows)
    merged_into uuid REFERENCES agent.leads (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leads_list ON agent.leads (tenant_id, created_at DESC, id) WHERE merged_into IS NULL;
CREATE INDEX leads_stage ON agent.leads (tenant_id, stage) WHERE merged_into IS NULL;
CREATE INDEX leads_assignee ON agent.leads (tenant_id, assignee_id) WHERE merged_into IS NULL;

-- one lead per phone and tenant, whatever the channel it came in through
CREATE TABLE agent.lead_phones (
    tenant_id uuid NOT NULL,
    phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    lead_id uuid NOT NULL REFERENCES agent.leads (id),
    PRIMARY KEY (tenant_id, phone)
);
CREATE INDEX lead_phones_lead ON agent.lead_phones (lead_id);

-- the timeline: what happened to the lead and why (stage moves and score changes say what moved them)
CREATE TABLE agent.lead_activity (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    lead_id uuid NOT NULL REFERENCES agent.leads (id),
    kind text NOT NULL CHECK (kind IN (
        'created', 'merged', 'updated', 'note', 'stage_changed', 'assigned', 'score_changed', 'extraction', 'message', 'call', 'appointment',
        'opt_out')),
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 1000),
    data jsonb NOT NULL DEFAULT '{}',
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_activity_lead ON agent.lead_activity (lead_id, id DESC);

-- what a conversation revealed (seed 001 `extractions`): features only; the scores are computed from them
CREATE TABLE agent.extractions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    lead_id uuid NOT NULL REFERENCES agent.leads (id),
    conversation_id uuid,
    intent smallint NOT NULL CHECK (intent BETWEEN 1 AND 3),
    urgency smallint NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    budget smallint NOT NULL CHECK (budget BETWEEN 1 AND 3),
    fit smallint NOT NULL CHECK (fit BETWEEN 1 AND 3),
    engagement smallint NOT NULL CHECK (engagement BETWEEN 1 AND 3),
    total smallint NOT NULL CHECK (total BETWEEN 5 AND 15 AND total = intent + urgency + budget + fit + engagement),
    temperature text NOT NULL CHECK (temperature IN ('hot', 'warm', 'cold')),
    -- what else it found: name, email, company, the call-to-action flags
    found jsonb NOT NULL DEFAULT '{}',
    reasoning text NOT NULL CHECK (length(reasoning) <= 2000),
    notification text NOT NULL CHECK (length(notification) <= 500),
    source text NOT NULL CHECK (source IN ('llm', 'rules', 'person', 'agent')),
    is_latest boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX extractions_latest ON agent.extractions (lead_id) WHERE is_latest;
CREATE INDEX extractions_tenant ON agent.extractions (tenant_id, created_at DESC);
