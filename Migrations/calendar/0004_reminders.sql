-- Reminders that are actually sent (seed 003 kept `reminder_24h_sent` flags that nothing ever set): one row per
-- notice an appointment is owed, due at its time, sent through messaging (whose policy applies: quiet hours delay a
-- notice, an opted-out number gets none). A sender claims due rows with a lease, so two replicas never send one row
-- at once, and sends each under its own id as the idempotency key, so a sender that dies after sending and before
-- marking it sent is answered by messaging with the first message, not a second one.

-- per tenant: which reminders an appointment gets (minutes before its start), and whether a booking is confirmed
CREATE TABLE calendar.settings (
    tenant_id uuid PRIMARY KEY,
    reminder_offsets integer[] NOT NULL DEFAULT '{1440,60}'
        CHECK (cardinality(reminder_offsets) <= 5 AND 0 < ALL (reminder_offsets) AND 20160 >= ALL (reminder_offsets)),
    send_confirmation boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calendar.reminders (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    appointment_id uuid NOT NULL REFERENCES calendar.appointments (id) ON DELETE CASCADE,
    -- confirmation at booking, reminder before the start, rescheduled when it moved
    kind text NOT NULL CHECK (kind IN ('confirmation', 'reminder', 'rescheduled')),
    offset_minutes integer NOT NULL DEFAULT 0 CHECK (offset_minutes >= 0),
    -- when it is owed; while a sender holds it, when its lease ends
    due_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text CHECK (length(last_error) <= 500),
    message_id text,
    sent_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT reminders_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
CREATE INDEX reminders_due ON calendar.reminders (due_at) WHERE status = 'pending';
CREATE INDEX reminders_appointment ON calendar.reminders (appointment_id);
