-- Message templates and campaigns (seed 000's `campaigns` / `campaign_targets`, seed 003's sequences come later).
--
-- Why campaigns live beside the outbox and not in a service of their own: easyMO's campaign state sat in one
-- system and its sender in another, which skipped opt-outs, quiet hours and throttles, retried permanent errors
-- and could restart a finished campaign (research/seeds.md §1.1, §4.2). Here a target is handed to the one outbox
-- (a message row and its `message.send` job) in the same transaction that records the target's message id, so
-- every campaign send passes the one policy, and a crash can neither lose a target nor hand it over twice.

CREATE TABLE messaging.templates (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    name text NOT NULL CHECK (name ~ '^[a-z0-9_]+$' AND length(name) <= 512),
    language text NOT NULL CHECK (length(language) BETWEEN 2 AND 15),
    category text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
    -- {type: text|image|document, text?}
    header jsonb CHECK (header IS NULL OR jsonb_typeof(header) = 'object'),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 1024),
    footer text CHECK (length(footer) <= 60),
    buttons jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(buttons) = 'array'),
    -- the highest {{n}} of the body: what a send must supply
    variable_count int NOT NULL CHECK (variable_count BETWEEN 0 AND 100),
    -- Meta's review (WhatsApp); templates of other channels are approved when written
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'paused', 'disabled')),
    rejection_reason text,
    provider_template_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, name, language)
);
CREATE INDEX templates_tenant ON messaging.templates (tenant_id, created_at, id);
CREATE TRIGGER templates_updated_at BEFORE UPDATE ON messaging.templates FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

-- WhatsApp's messaging tier (`messaging_limit_tier` of the phone number: TIER_250, TIER_1K, …): how many unique
-- customers a number may start conversations with per day. Read at template sync; null until then (no limit kept).
ALTER TABLE messaging.channels ADD COLUMN messaging_tier text CHECK (messaging_tier ~ '^(TIER_[0-9]+K?|TIER_UNLIMITED)$');

CREATE TABLE messaging.campaigns (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type text NOT NULL CHECK (type IN ('promo', 'voucher')),
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    template_id uuid NOT NULL REFERENCES messaging.templates (id),
    -- seed 000's machine plus `scheduled` and `cancelled`; done and cancelled are final (the refusal is in Swift,
    -- CampaignStatus, and this check keeps a stray UPDATE from reviving one)
    status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')),
    start_at timestamptz,
    valid_until timestamptz,
    -- {quietHours?: {start, end}, ignoreQuietHours?, perMinute?, throttleBucket?} as in the seed's metadata
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    -- voucher campaigns: {amount, currency, stationScope?, expiresAt?}
    voucher jsonb CHECK ((type = 'voucher') = (voucher IS NOT NULL)),
    -- the dispatcher's token bucket: sends it may still make, as of dispatch_at (the campaign's rate, shared by replicas)
    dispatch_credit double precision NOT NULL DEFAULT 0,
    dispatch_at timestamptz,
    waiting_reason text,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    CHECK ((status = 'scheduled') <= (start_at IS NOT NULL))
);
CREATE INDEX campaigns_tenant ON messaging.campaigns (tenant_id, created_at DESC, id DESC);
CREATE INDEX campaigns_active ON messaging.campaigns (status) WHERE status IN ('scheduled', 'running', 'paused');
CREATE TRIGGER campaigns_updated_at BEFORE UPDATE ON messaging.campaigns FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.campaign_targets (
    id bigserial PRIMARY KEY,
    campaign_id uuid NOT NULL REFERENCES messaging.campaigns (id),
    tenant_id uuid NOT NULL,
    msisdn text NOT NULL CHECK (msisdn ~ '^\+[1-9][0-9]{6,14}$'),
    -- for quiet hours in the recipient's local time, without parsing the number on every pass
    country text CHECK (country ~ '^[A-Z]{2}$'),
    contact_id uuid,
    lead_id uuid,
    variables jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(variables) = 'array'),
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'queued_throttled', 'sent', 'delivered', 'read', 'failed', 'opted_out', 'expired', 'cancelled')),
    error_code text,
    error_message text,
    -- set once, in the transaction that hands the target to the outbox: never handed over twice
    message_id uuid UNIQUE,
    voucher_id uuid,
    voucher_code text,
    -- the signed link of the voucher's card image, the template's image header
    voucher_card text,
    -- a send that was in flight when the service died: the provider may have it, so it is not sent again but shown
    needs_review boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, msisdn)
);
-- what the dispatcher claims next, in import order
CREATE INDEX campaign_targets_pending ON messaging.campaign_targets (campaign_id, id) WHERE status = 'queued' AND message_id IS NULL;
CREATE INDEX campaign_targets_status ON messaging.campaign_targets (campaign_id, status);
-- what the outbox holds of a campaign: the dispatcher hands over no more while this is full (a pause then stops
-- sends within a second, not after a backlog drains)
CREATE INDEX campaign_targets_outstanding ON messaging.campaign_targets (campaign_id)
    WHERE message_id IS NOT NULL AND status IN ('queued', 'queued_throttled');
CREATE TRIGGER campaign_targets_updated_at BEFORE UPDATE ON messaging.campaign_targets
    FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

-- A campaign send the provider may or may not have taken: set before the provider is called and cleared when it
-- refuses for now, so a job that finds it set was in flight when the service died.
ALTER TABLE messaging.messages ADD COLUMN send_started_at timestamptz;

-- A target follows its message, in the transaction that moved the message, whoever moved it (the sender, the
-- sandbox, a provider's status webhook): why a trigger and not four call sites. The message's own status only moves
-- forward (advance_status), so the target does too.
CREATE FUNCTION messaging.follow_campaign_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messaging.campaign_targets
    SET status = CASE
            WHEN NEW.status = 'blocked' AND NEW.error_code = 'opted_out' THEN 'opted_out'
            WHEN NEW.status = 'blocked' AND NEW.error_code = 'expired' THEN 'expired'
            WHEN NEW.status = 'blocked' AND NEW.error_code = 'campaign_cancelled' THEN 'cancelled'
            WHEN NEW.status IN ('blocked', 'failed') THEN 'failed'
            -- the provider took it (WhatsApp answers `pending` until its own `sent` webhook): sent, as far as we can send
            WHEN NEW.status = 'pending' THEN 'sent'
            ELSE NEW.status
        END,
        error_code = CASE WHEN NEW.status IN ('blocked', 'failed') THEN NEW.error_code ELSE error_code END,
        error_message = CASE WHEN NEW.status IN ('blocked', 'failed') THEN NEW.status_reason ELSE error_message END
    WHERE message_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_campaign_target AFTER UPDATE OF status ON messaging.messages
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.requested_by LIKE 'campaign:%')
    EXECUTE FUNCTION messaging.follow_campaign_message();

-- WhatsApp's tier counts unique recipients a number messaged first per day: one row per (channel, day, recipient).
CREATE TABLE messaging.tier_recipients (
    channel_id uuid NOT NULL,
    day date NOT NULL,
    address_hash bytea NOT NULL,
    PRIMARY KEY (channel_id, day, address_hash)
);
