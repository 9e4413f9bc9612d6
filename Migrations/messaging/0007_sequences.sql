-- Multi-step sequences (seed 003's campaigns / campaign_steps / campaign_logs): steps with a delay and an action
-- (send a template, move the lead's stage, book a meeting, place a call), entered by a trigger (by hand, a lead's
-- score, a stage change, inactivity), with a log per lead.
--
-- Why enrollments keep the phone: a lead who replies or opts out leaves every sequence at once, in the transaction
-- that stored the reply or the opt-out, and messaging knows the customer by number, not by lead id.
-- Why a step's log row is written before an action in another service: the action is then done at most once (a
-- crash leaves the row `started`, visible, instead of a second call to the customer).

CREATE TABLE messaging.sequences (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    trigger text NOT NULL CHECK (trigger IN ('manual', 'lead_score', 'stage_change', 'inactivity')),
    trigger_stage text CHECK (length(trigger_stage) BETWEEN 1 AND 40),
    trigger_score int CHECK (trigger_score BETWEEN 0 AND 100),
    trigger_inactive_days int CHECK (trigger_inactive_days BETWEEN 1 AND 3650),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    steps jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array' AND jsonb_array_length(steps) BETWEEN 1 AND 20),
    -- where the stage-change trigger read agent-core's feed up to
    moves_cursor bigint NOT NULL DEFAULT 0,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((trigger = 'stage_change') = (trigger_stage IS NOT NULL)),
    CHECK ((trigger = 'lead_score') = (trigger_score IS NOT NULL)),
    CHECK ((trigger = 'inactivity') = (trigger_inactive_days IS NOT NULL))
);
CREATE INDEX sequences_tenant ON messaging.sequences (tenant_id, created_at DESC, id DESC);
CREATE TRIGGER sequences_updated_at BEFORE UPDATE ON messaging.sequences FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.sequence_enrollments (
    id bigserial PRIMARY KEY,
    sequence_id uuid NOT NULL REFERENCES messaging.sequences (id),
    tenant_id uuid NOT NULL,
    lead_id uuid NOT NULL,
    phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    lead_name text,
    -- the next step to run (0-based) and when
    step int NOT NULL DEFAULT 0 CHECK (step >= 0),
    next_at timestamptz,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'exited')),
    exit_reason text,
    enrolled_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- a lead enters a sequence once
    UNIQUE (sequence_id, lead_id),
    CHECK ((status = 'active') = (next_at IS NOT NULL))
);
CREATE INDEX sequence_enrollments_due ON messaging.sequence_enrollments (next_at) WHERE status = 'active';
CREATE INDEX sequence_enrollments_phone ON messaging.sequence_enrollments (tenant_id, phone) WHERE status = 'active';
CREATE TRIGGER sequence_enrollments_updated_at BEFORE UPDATE ON messaging.sequence_enrollments
    FOR EACH ROW EXECUTE FUNCTION messaging.touch_updated_at();

CREATE TABLE messaging.sequence_logs (
    id bigserial PRIMARY KEY,
    enrollment_id bigint NOT NULL REFERENCES messaging.sequence_enrollments (id),
    tenant_id uuid NOT NULL,
    step int,
    action text NOT NULL CHECK (action IN ('enrolled', 'send_message', 'update_stage', 'schedule_meeting', 'make_call', 'completed', 'exited')),
    outcome text NOT NULL CHECK (outcome IN ('started', 'done', 'failed')),
    detail text,
    message_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sequence_logs_enrollment ON messaging.sequence_logs (enrollment_id, id);
