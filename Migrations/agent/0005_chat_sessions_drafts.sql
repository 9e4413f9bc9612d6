-- Preview sessions ("Try it"), and agents that are not live yet.
--
-- * Seed 000 kept agent_chat_sessions and agent_chat_messages, but easyMO's agent chat answered from canned strings,
--   so a preview showed nothing of what customers would get. A session here is answered by the same reply engine
--   as a customer (the same prompt, tools, knowledge and model), and each agent turn keeps what it did: the tool
--   calls, the sources, tokens and cost, so staff can see why it said what it said.
-- * Any active agent answers a tenant's customers, so an agent being built must not be active: `draft` is a status
--   that only preview sessions talk to. Going live is moving it to `active`.
-- * A turn's number is taken under the session row's lock, so two staff typing into one session at once get
--   distinct, ordered turns; the lock is not held while the agent thinks.

ALTER TABLE agent.agents DROP CONSTRAINT agents_status_check;
ALTER TABLE agent.agents ADD CONSTRAINT agents_status_check CHECK (status IN ('draft', 'active', 'archived'));

CREATE TABLE agent.chat_sessions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL REFERENCES agent.agents (id),
    -- answered as this kind of channel would be (sms prompts are kept short)
    channel_kind text NOT NULL DEFAULT 'webchat' CHECK (channel_kind IN ('whatsapp', 'instagram', 'sms', 'telegram', 'webchat', 'email', 'sandbox')),
    -- the customer the staff member plays: the voucher tool looks vouchers up by this number
    customer_address text NOT NULL CHECK (length(customer_address) BETWEEN 1 AND 200),
    customer_name text CHECK (length(customer_name) <= 120),
    language text CHECK (language IN ('en', 'sw', 'rw', 'fr', 'sheng')),
    turns int NOT NULL DEFAULT 0 CHECK (turns >= 0),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_sessions_tenant ON agent.chat_sessions (tenant_id, created_at DESC, id DESC);

CREATE TABLE agent.chat_messages (
    session_id uuid NOT NULL REFERENCES agent.chat_sessions (id),
    turn int NOT NULL CHECK (turn >= 1),
    tenant_id uuid NOT NULL,
    sender text NOT NULL CHECK (sender IN ('user', 'agent')),
    body text CHECK (length(body) <= 8000),
    -- the agent's turn: the reply as messaging would have received it (tool calls, sources, tokens, cost, hand-off)
    reply jsonb CHECK (reply IS NULL OR jsonb_typeof(reply) = 'object'),
    answered_by text,
    latency_ms int CHECK (latency_ms >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, turn),
    CHECK ((sender = 'agent') = (reply IS NOT NULL))
);
