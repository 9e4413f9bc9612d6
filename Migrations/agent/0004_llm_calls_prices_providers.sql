-- LLM call accounting, the price table, spend caps and their alerts, and each tenant's own LLM providers.
--
-- Why these tables, and what the seeds got wrong that they refuse:
-- * Seed 003 `llm_calls` kept one float `estimated_cost_usd` per call, computed with prices written into the code,
--   and nothing for cached prompt tokens: a price change needed a deploy, and nobody could say later what a call
--   was priced at. Here a call keeps its raw token counts (input, cached, output) *and* the micro-USD cost worked
--   out at the price in force when it was made (integers: money is never floating point). Prices are rows with an
--   `effective_from`, so a new price is a new row (the old one still explains old calls), added over the API
--   without a deploy.
-- * Failed calls were not recorded, so a provider failing (and billing for the prompt) was invisible. Every attempt
--   is a row, with its error and whether a fallback provider answered.
-- * Spend limits were checked after the fact (peers.md §10: a limit reconciled later is overspent by 315%). A cap is
--   enforced before a call, under a row lock per tenant and month (`spend_months`), with a reservation per reply in
--   flight (`spend_reservations`), so concurrent replies cannot all pass a check that only one of them fits.
-- * Alerts were sent by every worker that noticed: `spend_alerts` has one row per tenant, month, scope and
--   threshold, so however many replies cross a threshold at once, one alert is stored.
-- * Provider keys lived in plain text in environment files shared by every broker. A tenant may bring its own
--   providers; their keys are sealed with AES-256-GCM (the key id beside them, so keys rotate), and only a hint
--   (the last four characters) is ever shown.

-- What each model costs, in micro-USD per million tokens. `provider` '*' prices the model whoever serves it (the
-- platform's providers are named `primary` and `fallback`, a tenant's as the tenant names them); a row naming the
-- provider wins over '*'. The row in force at an instant is the one with the latest `effective_from` not after it.
CREATE TABLE agent.llm_prices (
    id bigserial PRIMARY KEY,
    provider text NOT NULL DEFAULT '*' CHECK (length(provider) BETWEEN 1 AND 60),
    model text NOT NULL CHECK (length(model) BETWEEN 1 AND 120),
    input_per_million bigint NOT NULL CHECK (input_per_million >= 0),
    -- absent: cached prompt tokens cost what other prompt tokens do
    cached_input_per_million bigint CHECK (cached_input_per_million >= 0),
    output_per_million bigint NOT NULL CHECK (output_per_million >= 0),
    effective_from timestamptz NOT NULL,
    created_by text NOT NULL DEFAULT 'migration',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, model, effective_from)
);

-- The values of LLMPrices.defaults (list prices of late 2025, $ per million tokens × 1,000,000), in force from the
-- epoch so that every call has a price; a test keeps the two lists equal.
INSERT INTO agent.llm_prices (provider, model, input_per_million, cached_input_per_million, output_per_million, effective_from) VALUES
    ('*', 'gpt-4o-mini', 150000, 75000, 600000, 'epoch'),
    ('*', 'gpt-4o', 2500000, 1250000, 10000000, 'epoch'),
    ('*', 'gpt-4.1', 2000000, 500000, 8000000, 'epoch'),
    ('*', 'gpt-4.1-mini', 400000, 100000, 1600000, 'epoch'),
    ('*', 'gpt-4.1-nano', 100000, 25000, 400000, 'epoch'),
    ('*', 'text-embedding-3-small', 20000, NULL, 0, 'epoch'),
    ('*', 'gemini-2.0-flash', 100000, 25000, 400000, 'epoch'),
    ('*', 'llama-3.1-8b-instant', 50000, NULL, 80000, 'epoch');

-- Every LLM round trip (seed 003's `llm_calls`, corrected): who it was for, what was asked of whom, what it used and
-- cost, how long it took, how it failed. `inbound_key` ties the calls to the reply they were made for (the reply's
-- billed cost is the sum of its attempt's calls).
CREATE TABLE agent.llm_calls (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid,
    conversation_id uuid,
    inbound_key text CHECK (length(inbound_key) <= 200),
    -- one run of the reply engine; a reply's cost is the sum of the calls of the attempt that stored it
    attempt_id uuid NOT NULL,
    provider text NOT NULL,
    model text NOT NULL,
    call_type text NOT NULL CHECK (call_type IN ('chat', 'tool_round', 'embedding')),
    input_tokens int NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    cached_tokens int NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0 AND cached_tokens <= input_tokens),
    output_tokens int NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    -- micro-USD at the price in force; NULL: the model has no price (unknown is not free: the console says so)
    cost_micros bigint CHECK (cost_micros >= 0),
    latency_ms int NOT NULL CHECK (latency_ms >= 0),
    error text CHECK (length(error) <= 500),
    used_fallback boolean NOT NULL DEFAULT false,
    -- the spend rule that chose the model: `normal`, `cheap` (near the cap)
    spend_mode text NOT NULL DEFAULT 'normal' CHECK (spend_mode IN ('normal', 'cheap')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX llm_calls_tenant ON agent.llm_calls (tenant_id, created_at);
CREATE INDEX llm_calls_agent ON agent.llm_calls (tenant_id, agent_id, created_at);
CREATE INDEX llm_calls_reply ON agent.llm_calls (tenant_id, inbound_key);

-- The row a reply locks (FOR UPDATE) to decide on a tenant's month: one per tenant and month, made on first use.
CREATE TABLE agent.spend_months (
    tenant_id uuid NOT NULL,
    month date NOT NULL CHECK (extract(day FROM month) = 1),
    PRIMARY KEY (tenant_id, month)
);

-- What replies in flight may still spend: counted with the month's recorded spend when the next reply decides, so
-- concurrent replies cannot overshoot a cap by more than the estimate's error. A reply's reservation is zeroed
-- when its calls are recorded, and one that was never settled (a crash) stops counting at `expires_at`. Unique per
-- inbound message: a second delivery of a message being answered waits for that answer instead of paying again.
CREATE TABLE agent.spend_reservations (
    tenant_id uuid NOT NULL,
    inbound_key text NOT NULL CHECK (length(inbound_key) BETWEEN 1 AND 200),
    attempt_id uuid NOT NULL,
    agent_id uuid,
    month date NOT NULL,
    micros bigint NOT NULL CHECK (micros >= 0),
    settled boolean NOT NULL DEFAULT false,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, inbound_key)
);
-- by month: what a decision sums, and last month's rows, deleted by the first reply of the next
CREATE INDEX spend_reservations_month ON agent.spend_reservations (tenant_id, month);

-- One alert per tenant, month, scope (`tenant` or an agent's id) and threshold (80, 100): the unique key is what
-- makes concurrent replies crossing a threshold alert once.
CREATE TABLE agent.spend_alerts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    month date NOT NULL,
    scope text NOT NULL CHECK (length(scope) BETWEEN 1 AND 60),
    threshold int NOT NULL CHECK (threshold IN (80, 100)),
    cap_micros bigint NOT NULL,
    spent_micros bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, month, scope, threshold)
);

-- A tenant's own LLM settings: its monthly cap over all its agents, and whether its own providers answer.
CREATE TABLE agent.tenant_llm_settings (
    tenant_id uuid PRIMARY KEY,
    monthly_cap_micros bigint CHECK (monthly_cap_micros >= 0),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A tenant's providers in fallback order (position 0 first). The key is sealed (nonce ‖ ciphertext ‖ tag) with the
-- key named by `api_key_key_id`; `api_key_hint` is all that is ever shown of it.
CREATE TABLE agent.tenant_providers (
    tenant_id uuid NOT NULL REFERENCES agent.tenant_llm_settings (tenant_id),
    position int NOT NULL CHECK (position BETWEEN 0 AND 4),
    name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    base_url text NOT NULL CHECK (length(base_url) BETWEEN 1 AND 500),
    model text NOT NULL CHECK (length(model) BETWEEN 1 AND 120),
    cheap_model text CHECK (length(cheap_model) BETWEEN 1 AND 120),
    api_key bytea,
    api_key_key_id text,
    api_key_hint text,
    CHECK ((api_key IS NULL) = (api_key_key_id IS NULL)),
    PRIMARY KEY (tenant_id, position),
    UNIQUE (tenant_id, name)
);
