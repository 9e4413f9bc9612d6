-- Channels, contacts, conversations, messages and their delivery history, opt-outs, settings and the throttle.
--
-- What the seeds got wrong and this schema refuses:
-- * Sequence numbers were computed by the application as max()+1 (001), so two inbound messages arriving together
--   got the same number. Here a conversation row holds its last number and each message takes the next one
--   inside the transaction that inserts it: the row lock makes concurrent inserts queue, and a rolled-back insert
--   gives its number back, so the numbers have neither gaps nor duplicates (UNIQUE (conversation_id, sequence_no)
--   checks it).
-- * A provider retrying a webhook stored the message twice. Provider message ids are unique per channel.
-- * Delivery status was overwritten by whichever webhook came last, so a late "delivered" undid "read". The
--   current status only moves forward (messaging.advance_status), and every status received is kept in history.
-- * Provider secrets sat in plain text. They are sealed with AES-GCM by the application (secrets, with the id of
--   the key that sealed them, so keys can rotate) and never selected by the API's reads.
-- * The opt-out list held phone numbers in clear in one place and hashes in another. It holds a keyed hash of
--   the E.164 number per tenant, and a masked form to show.

CREATE FUNCTION messaging.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE messaging.channels (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('whatsapp', 'instagram', 'sms', 'telegram', 'email', 'webchat', 'sandbox')),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- the id in webhook URLs and the web-chat snippet: not secret, not guessable, never reused
    public_id text NOT NULL UNIQUE CHECK (public_id ~ '^ch_[A-Za-z0-9]{20,40}$'),
    -- what the provider calls this channel: WhatsApp's phone number id, the sending number, the bot's name
    address text CHECK (length(address) <= 200),
    agent_id uuid,
    -- settings that are not secret (business account id, messaging service sid, allowed origins, …)
    config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    secrets bytea,
    secrets_key_id text,
    -- the last characters of each secret, by name, to show which one is set
    secret_hints jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(secret_hints) = 'object'),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((secrets IS NULL) = (secrets_key_id IS NULL))
);
CREATE INDEX channels_tenant ON messaging.channels (tenant_id, created_at, id);
-- an inbound WhatsApp batch names its phone number id; two channels may not claim the same one
CREATE UNIQUE INDEX channels_provider_address ON messaging.channels (kind, address) WHERE address IS NOT NULL AND kind <> 'sandbox';
CREATE TRIGGER channels_updated_at BEFORE UPDATE ON messaging.channels FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.contacts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    -- E.164 for phone channels, the chat id for Telegram, the visitor id for web chat
    address text NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    name text CHECK (length(name) <= 200),
    profile_name text CHECK (length(profile_name) <= 200),
    tags text[] NOT NULL DEFAULT '{}',
    notes text CHECK (length(notes) <= 4000),
    language text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, address)
);
CREATE TRIGGER contacts_updated_at BEFORE UPDATE ON messaging.contacts FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.conversations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    contact_id uuid NOT NULL REFERENCES messaging.contacts (id),
    status text NOT NULL DEFAULT 'ai_active' CHECK (status IN ('ai_active', 'human_escalated', 'closed')),
    last_sequence_no int NOT NULL DEFAULT 0,
    -- the customer's last message: WhatsApp and Instagram allow free-form replies for 24 hours after it
    last_inbound_at timestamptz,
    last_message_at timestamptz NOT NULL DEFAULT now(),
    last_message_preview text,
    unread_count int NOT NULL DEFAULT 0 CHECK (unread_count >= 0),
    closed_at timestamptz,
    closed_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
-- one open conversation per channel and contact; a message after `closed` opens a new one
CREATE UNIQUE INDEX conversations_open ON messaging.conversations (channel_id, contact_id) WHERE status <> 'closed';
CREATE INDEX conversations_inbox ON messaging.conversations (tenant_id, last_message_at DESC, id DESC);
CREATE TRIGGER conversations_updated_at BEFORE UPDATE ON messaging.conversations FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.messages (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    conversation_id uuid NOT NULL REFERENCES messaging.conversations (id),
    sequence_no int NOT NULL CHECK (sequence_no > 0),
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    sender text NOT NULL CHECK (sender IN ('user', 'agent', 'human', 'system')),
    -- text, image, location, template, … (ProviderPayloads' kinds)
    kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
    body text CHECK (length(body) <= 8192),
    payload jsonb NOT NULL DEFAULT '{}',
    provider_message_id text CHECK (length(provider_message_id) <= 200),
    status text NOT NULL CHECK (status IN ('received', 'queued', 'queued_throttled', 'pending', 'sent', 'delivered', 'read', 'failed', 'blocked')),
    -- why a send is held or was blocked or failed, in words, and the provider's code
    status_reason text,
    error_code text,
    hold_until timestamptz,
    language text,
    language_confidence real CHECK (language_confidence BETWEEN 0 AND 1),
    tokens int CHECK (tokens >= 0),
    cost_minor bigint,
    cost_currency text CHECK (cost_currency ~ '^[A-Z]{3}$'),
    -- who asked for an outbound message (a person, an agent, another service) and what to tell it back
    requested_by text,
    callback jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, sequence_no)
);
CREATE UNIQUE INDEX messages_provider_id ON messaging.messages (channel_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX messages_tenant_day ON messaging.messages (tenant_id, created_at);
CREATE TRIGGER messages_updated_at BEFORE UPDATE ON messaging.messages FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

-- Every delivery status a provider reported, in the order received, whatever it did to the current one.
CREATE TABLE messaging.message_status_history (
    id bigserial PRIMARY KEY,
    message_id uuid NOT NULL REFERENCES messaging.messages (id),
    status text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    error_code text,
    error_reason text,
    applied boolean NOT NULL
);
CREATE INDEX message_status_history_message ON messaging.message_status_history (message_id, id);

-- The delivery lattice, once, for every writer: pending < sent < delivered < read. `failed` replaces only a
-- message not yet delivered; nothing lower replaces something higher.
CREATE FUNCTION messaging.advance_status(current text, incoming text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN incoming = 'failed' THEN CASE WHEN current IN ('delivered', 'read') THEN current ELSE 'failed' END
        WHEN current = 'failed' THEN current
        WHEN array_position(ARRAY['queued', 'queued_throttled', 'pending', 'sent', 'delivered', 'read'], incoming)
           > coalesce(array_position(ARRAY['queued', 'queued_throttled', 'pending', 'sent', 'delivered', 'read'], current), 0)
            THEN incoming
        ELSE current
    END
$$;

-- Raw webhook bodies, stored before anything is parsed so the provider is answered at once; a job handles each.
CREATE TABLE messaging.webhook_deliveries (
    id bigserial PRIMARY KEY,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    provider text NOT NULL,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);

-- A relinked channel's open conversations are closed; this says how many, when and why (seed 001).
CREATE TABLE messaging.conversation_archives (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    conversations int NOT NULL,
    reason text NOT NULL,
    previous_agent_id uuid,
    new_agent_id uuid,
    actor text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE messaging.opt_outs (
    tenant_id uuid NOT NULL,
    -- HMAC-SHA256 of the E.164 number under the service's opt-out key
    address_hash bytea NOT NULL,
    masked text NOT NULL,
    source text NOT NULL CHECK (source IN ('keyword', 'provider', 'api', 'import')),
    language text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, address_hash)
);

-- Per-tenant settings; absent keys take the platform defaults (Domain/MessagingSettings.swift).
CREATE TABLE messaging.settings (
    tenant_id uuid PRIMARY KEY,
    document jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Send counters per throttle key and window, shared by every replica.
CREATE TABLE messaging.send_counters (
    key text NOT NULL,
    window_start timestamptz NOT NULL,
    count int NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- What the sandbox channel "sent": the demo's and the tests' view of outbound messages.
CREATE TABLE messaging.sandbox_outbox (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    message_id uuid NOT NULL REFERENCES messaging.messages (id),
    recipient text NOT NULL,
    body text,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_outbox_tenant ON messaging.sandbox_outbox (tenant_id, id);

-- A status can arrive before the send that caused it has stored the provider's message id (the provider answers
-- the send and fires the webhook at once). It waits here, and the sender applies it when it stores the id.
CREATE TABLE messaging.unmatched_statuses (
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    provider_message_id text NOT NULL,
    status text NOT NULL,
    occurred_at timestamptz NOT NULL,
    error_code text,
    error_reason text,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unmatched_statuses_message ON messaging.unmatched_statuses (channel_id, provider_message_id);
