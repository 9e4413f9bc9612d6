-- What the other services tell the CRM, and customers.
--
-- Seed 004 kept customers as a table of their own whose totals (bookings, calls, amount spent) were typed in and
-- drifted from the bookings, calls and payments they summed; seed 000 kept opt-outs in two places that nothing
-- reconciled. Here a customer is a lead that converted, and its totals move with the events the services that own
-- the facts send (`POST /v1/crm/events`: messaging's messages and consent changes, calendar-booking's appointments,
-- the wallet's purchases), each recorded once per sender's id, so a retried delivery counts once.

CREATE TABLE agent.crm_events (
    tenant_id uuid NOT NULL,
    source text NOT NULL CHECK (source IN ('messaging', 'calendar-booking', 'marketplace-wallet', 'agent-core', 'vouchers', 'gateway')),
    event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    lead_id uuid NOT NULL REFERENCES agent.leads (id),
    kind text NOT NULL,
    at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, event_id)
);
CREATE INDEX crm_events_lead ON agent.crm_events (lead_id, at DESC);

ALTER TABLE agent.leads
    ADD COLUMN messages_received integer NOT NULL DEFAULT 0 CHECK (messages_received >= 0),
    -- minor units spent per currency: {"KES": 120000}
    ADD COLUMN spent jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(spent) = 'object'),
    -- the first time the lead converted: a customer from then on (one later lost still bought)
    ADD COLUMN converted_at timestamptz;

CREATE INDEX leads_customers ON agent.leads (tenant_id, converted_at DESC, id) WHERE merged_into IS NULL AND converted_at IS NOT NULL;

-- whatever converts a lead (a won stage, a person, a purchase) makes it a customer, in the statement that does it
CREATE FUNCTION agent.leads_converted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'converted' AND NEW.converted_at IS NULL THEN
        NEW.converted_at := now();
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER leads_converted BEFORE INSERT OR UPDATE OF status ON agent.leads FOR EACH ROW EXECUTE FUNCTION agent.leads_converted();

ALTER TABLE agent.lead_activity DROP CONSTRAINT lead_activity_kind_check;
ALTER TABLE agent.lead_activity ADD CONSTRAINT lead_activity_kind_check CHECK (kind IN (
    'created', 'merged', 'updated', 'note', 'stage_changed', 'assigned', 'score_changed', 'extraction', 'message', 'call', 'appointment',
    'opt_out', 'opt_in', 'purchase'));
