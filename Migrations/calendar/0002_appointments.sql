-- Agents (people, or resources such as a pickup van) with their availability, blocks of time off, and appointments
-- the database refuses to double-book.
--
-- The seeds kept dates as text (seed 004 `bookings.date`/`time`), invented slots when none were configured, and
-- checked for clashes in code only. Here every time is a `timestamptz` instant plus the IANA zone it was booked in, an
-- agent without rules has no slots, and an exclusion constraint makes two active appointments of one agent whose
-- occupied ranges overlap impossible, whatever the code does and however many requests race for a slot.

-- gist over (uuid =, range &&) needs btree_gist for the uuid equality (a trusted extension: a database owner may create it)
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE calendar.agents (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- a person who takes appointments, or a thing that is booked (a van, a room)
    kind text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'resource')),
    -- the agent-core agent (AI) or gateway user this calendar belongs to, when there is one
    agent_core_id uuid,
    user_id uuid,
    email text CHECK (length(email) <= 254),
    -- IANA zone of the weekly rules (Africa/Nairobi, Europe/Malta, America/Santiago…); checked by the code, which
    -- knows the zone database
    time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    -- the availability schedule (weekly rules, date overrides, buffers, notice, maximum per day, slot step), as the
    -- code validated it; no rules means no slots
    schedule jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- minutes per service type (`pickup`: 90); a service type not listed takes the duration asked for
    service_durations jsonb NOT NULL DEFAULT '{}'::jsonb,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agents_identity_key UNIQUE (id, tenant_id)
);
CREATE INDEX agents_tenant ON calendar.agents (tenant_id, name, id);

-- time off and other unavailability (no buffers around it)
CREATE TABLE calendar.blocks (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    reason text CHECK (length(reason) <= 500),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocks_agent_fkey FOREIGN KEY (agent_id, tenant_id) REFERENCES calendar.agents (id, tenant_id) ON DELETE CASCADE,
    CONSTRAINT blocks_order CHECK (starts_at < ends_at)
);
CREATE INDEX blocks_agent_time ON calendar.blocks (agent_id, starts_at);

CREATE TABLE calendar.appointments (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    -- who it is for: a lead (agent-core's CRM) or a contact, and how to reach them
    lead_id uuid,
    contact_id uuid,
    contact_name text CHECK (length(contact_name) <= 200),
    contact_phone text CHECK (contact_phone ~ '^\+[1-9][0-9]{6,14}$'),
    contact_email text CHECK (length(contact_email) <= 254),
    type text NOT NULL DEFAULT 'other'
        CHECK (type IN ('property_visit', 'virtual_meeting', 'phone_call', 'office_meeting', 'other')),
    service_type text CHECK (length(service_type) <= 60),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    notes text CHECK (length(notes) <= 2000),
    -- pending: held while a conversation confirms it (hold_expires_at); scheduled, confirmed: booked; the rest ended
    status text NOT NULL CHECK (status IN ('pending', 'scheduled', 'confirmed', 'cancelled', 'completed', 'no_show', 'expired')),
    hold_expires_at timestamptz,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    -- the zone it was booked in (the customer's), for showing it as they saw it
    time_zone text NOT NULL CHECK (length(time_zone) BETWEEN 1 AND 64),
    -- the agent's buffers when it was booked, and the range it occupies with them: the exclusion constraint compares
    -- occupied ranges, so two appointments are at least after(first) + before(second) apart (computed by the store;
    -- an expression with intervals is not immutable, so it cannot be a generated column)
    buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
    buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
    occupies tstzrange NOT NULL,
    location text CHECK (length(location) <= 500),
    meeting_url text CHECK (length(meeting_url) <= 2000),
    participants jsonb NOT NULL DEFAULT '[]'::jsonb,
    source text NOT NULL DEFAULT 'manual' CHECK (source IN ('voice', 'sms', 'whatsapp', 'web', 'manual', 'agent')),
    conversation_id uuid,
    payment_amount bigint CHECK (payment_amount >= 0),
    payment_currency text CHECK (payment_currency ~ '^[A-Z]{3}$'),
    payment_status text CHECK (payment_status IN ('none', 'pending', 'paid', 'refunded', 'failed')),
    -- service-specific fields (pickup address, number of loads), validated by the code
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    cancellation_reason text CHECK (length(cancellation_reason) <= 500),
    cancelled_at timestamptz,
    -- every earlier start and end, newest last: [{"startsAt":…,"endsAt":…,"at":…,"by":…}]
    reschedules jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT appointments_agent_fkey FOREIGN KEY (agent_id, tenant_id) REFERENCES calendar.agents (id, tenant_id),
    CONSTRAINT appointments_order CHECK (starts_at < ends_at),
    CONSTRAINT appointments_occupies_covers CHECK (lower(occupies) <= starts_at AND upper(occupies) >= ends_at),
    CONSTRAINT appointments_hold CHECK ((status = 'pending') = (hold_expires_at IS NOT NULL)),
    CONSTRAINT appointments_payment CHECK ((payment_amount IS NULL) = (payment_currency IS NULL)),
    CONSTRAINT appointments_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    -- no double booking: one agent, overlapping occupied ranges, both active (an expired hold is swept to `expired`
    -- before a booking looks, inside the booking's transaction)
    CONSTRAINT appointments_no_overlap EXCLUDE USING gist (agent_id WITH =, occupies WITH &&)
        WHERE (status IN ('pending', 'scheduled', 'confirmed'))
);
CREATE INDEX appointments_tenant_start ON calendar.appointments (tenant_id, starts_at, id);
CREATE INDEX appointments_agent_start ON calendar.appointments (agent_id, starts_at);
-- the sweeper's "holds past their time" scan
CREATE INDEX appointments_holds ON calendar.appointments (hold_expires_at) WHERE status = 'pending';
