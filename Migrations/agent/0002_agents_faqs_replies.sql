-- Agents, their prompt versions, FAQs, and the replies given (one per inbound message).
--
-- What the seeds got wrong and this schema refuses:
-- * Prompts were edited in place (004 system_prompts kept a version number but overwrote the text), so nobody could
--   say what the agent was told when it answered. Versions are rows that never change; which one is active is a
--   separate row, moved by activation and rollback, each with its audit row.
-- * easyMO's agent chat answered from canned strings and billed nothing twice only by luck: a retried job asked
--   the model again. A reply is stored under the inbound message's id, so a retry gets the same reply, billed once.
-- * FAQ usage counts were incremented by the client; here the reply that used an FAQ increments it, in the same
--   transaction that stores the reply.

CREATE TABLE agent.agents (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    kind text NOT NULL CHECK (kind IN ('broker', 'support', 'sales', 'marketing')),
    product text CHECK (length(product) <= 200),
    languages text[] NOT NULL DEFAULT '{en}',
    tone text NOT NULL DEFAULT 'neutral' CHECK (tone IN ('mtaa', 'rafiki', 'kazi', 'sana', 'neutral')),
    tools text[] NOT NULL DEFAULT '{}',
    -- hand-off rules, answer length, monthly spend cap: the agent's policy document
    policy jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(policy) = 'object'),
    is_default boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_name ON agent.agents (tenant_id, lower(name));
-- the agent that answers channels with none bound: at most one per tenant
CREATE UNIQUE INDEX agents_default ON agent.agents (tenant_id) WHERE is_default;
CREATE INDEX agents_tenant ON agent.agents (tenant_id, created_at, id);

CREATE TABLE agent.prompt_versions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL REFERENCES agent.agents (id),
    channel_type text NOT NULL CHECK (channel_type IN ('chat', 'sms', 'voice')),
    version text NOT NULL CHECK (version ~ '^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$'),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 32000),
    notes text CHECK (length(notes) <= 2000),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agent_id, channel_type, version)
);

CREATE TABLE agent.active_prompts (
    agent_id uuid NOT NULL REFERENCES agent.agents (id),
    channel_type text NOT NULL,
    version_id uuid NOT NULL REFERENCES agent.prompt_versions (id),
    activated_by text NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, channel_type)
);

CREATE TABLE agent.faqs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    category text CHECK (length(category) <= 80),
    question text NOT NULL CHECK (length(question) BETWEEN 1 AND 500),
    answer text NOT NULL CHECK (length(answer) BETWEEN 1 AND 4000),
    keywords text[] NOT NULL DEFAULT '{}',
    language text NOT NULL DEFAULT 'en',
    active boolean NOT NULL DEFAULT true,
    display_order int NOT NULL DEFAULT 0,
    usage_count int NOT NULL DEFAULT 0 CHECK (usage_count >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faqs_tenant ON agent.faqs (tenant_id, display_order, id);

CREATE TABLE agent.replies (
    tenant_id uuid NOT NULL,
    -- the caller's Idempotency-Key: the inbound message's id
    inbound_key text NOT NULL CHECK (length(inbound_key) BETWEEN 1 AND 200),
    conversation_id uuid NOT NULL,
    agent_id uuid REFERENCES agent.agents (id),
    reply jsonb NOT NULL,
    -- how it was answered: `offline` (the built-in responder) or a provider's name
    answered_by text NOT NULL,
    faq_id uuid REFERENCES agent.faqs (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, inbound_key)
);
CREATE INDEX replies_conversation ON agent.replies (conversation_id, created_at);
