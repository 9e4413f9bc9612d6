-- Stations, vouchers and their events. The voucher state machine lives here, so no code path can make another
-- transition: issued → sent → redeemed, issued|sent → expired, issued|sent → void. Every transition (and the
-- issue itself) writes its voucher_events row from the trigger, with the actor, station and context the
-- application put in the transaction's settings (sokoni.actor, sokoni.station, sokoni.context).

CREATE FUNCTION vouchers.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TABLE vouchers.stations (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    engencode text NOT NULL UNIQUE CHECK (length(engencode) BETWEEN 1 AND 64),
    owner_contact text CHECK (owner_contact ~ '^\+[1-9][0-9]{7,14}$'),
    latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX stations_tenant ON vouchers.stations (tenant_id, name);
CREATE INDEX stations_location ON vouchers.stations (latitude, longitude) WHERE latitude IS NOT NULL;
CREATE TRIGGER stations_updated_at BEFORE UPDATE ON vouchers.stations FOR EACH ROW EXECUTE FUNCTION vouchers.touch_updated_at();

CREATE TABLE vouchers.vouchers (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    code text NOT NULL UNIQUE CHECK (code ~ '^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}$'),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    msisdn text NOT NULL CHECK (msisdn ~ '^\+[1-9][0-9]{7,14}$'),
    station_scope uuid REFERENCES vouchers.stations (id),
    campaign_id uuid,
    recipient_key text,
    status text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'sent', 'redeemed', 'expired', 'void')),
    issued_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    redeemed_at timestamptz,
    redeemed_station_id uuid REFERENCES vouchers.stations (id),
    expires_at timestamptz,
    created_by text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'redeemed') = (redeemed_at IS NOT NULL AND redeemed_station_id IS NOT NULL))
);
CREATE INDEX vouchers_tenant_issued ON vouchers.vouchers (tenant_id, issued_at, id);
CREATE INDEX vouchers_campaign ON vouchers.vouchers (tenant_id, campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX vouchers_station_scope ON vouchers.vouchers (station_scope, status);
CREATE INDEX vouchers_redeemed_station ON vouchers.vouchers (redeemed_station_id, redeemed_at DESC) WHERE redeemed_station_id IS NOT NULL;
CREATE INDEX vouchers_due ON vouchers.vouchers (expires_at) WHERE status IN ('issued', 'sent');
-- one voucher per campaign recipient, so a retried bulk issue never issues twice
CREATE UNIQUE INDEX vouchers_recipient ON vouchers.vouchers (tenant_id, campaign_id, recipient_key) WHERE recipient_key IS NOT NULL;

CREATE TABLE vouchers.voucher_events (
    id bigserial PRIMARY KEY,
    voucher_id uuid NOT NULL REFERENCES vouchers.vouchers (id),
    tenant_id uuid NOT NULL,
    event_type text NOT NULL CHECK (event_type IN ('issued', 'sent', 'redeemed', 'expired', 'void', 'policy_blocked')),
    actor text,
    station_id uuid REFERENCES vouchers.stations (id),
    context jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voucher_events_voucher ON vouchers.voucher_events (voucher_id, created_at);
CREATE INDEX voucher_events_type ON vouchers.voucher_events (tenant_id, event_type, created_at DESC);

CREATE FUNCTION vouchers.enforce_voucher_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'issued' THEN
            RAISE EXCEPTION 'a voucher starts as issued, not %', NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT ((OLD.status = 'issued' AND NEW.status IN ('sent', 'expired', 'void'))
             OR (OLD.status = 'sent' AND NEW.status IN ('redeemed', 'expired', 'void'))
             OR (OLD.status = 'issued' AND NEW.status = 'redeemed')) THEN
            RAISE EXCEPTION 'illegal voucher transition % -> %', OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status = 'sent' THEN NEW.sent_at := coalesce(NEW.sent_at, now()); END IF;
    ELSIF NEW.redeemed_at IS DISTINCT FROM OLD.redeemed_at OR NEW.code <> OLD.code OR NEW.tenant_id <> OLD.tenant_id
        OR NEW.amount_minor <> OLD.amount_minor OR NEW.currency <> OLD.currency THEN
        RAISE EXCEPTION 'a voucher''s code, tenant, amount and redemption never change' USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE FUNCTION vouchers.record_voucher_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        INSERT INTO vouchers.voucher_events (voucher_id, tenant_id, event_type, actor, station_id, context)
        VALUES (NEW.id, NEW.tenant_id, NEW.status,
                coalesce(nullif(current_setting('sokoni.actor', true), ''), current_user),
                CASE WHEN NEW.status = 'redeemed' THEN NEW.redeemed_station_id
                     ELSE nullif(current_setting('sokoni.station', true), '')::uuid END,
                coalesce(nullif(current_setting('sokoni.context', true), ''), '{}')::jsonb);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER vouchers_state_machine BEFORE INSERT OR UPDATE ON vouchers.vouchers
    FOR EACH ROW EXECUTE FUNCTION vouchers.enforce_voucher_transition();
CREATE TRIGGER vouchers_events AFTER INSERT OR UPDATE ON vouchers.vouchers
    FOR EACH ROW EXECUTE FUNCTION vouchers.record_voucher_event();

-- Events and the audit trail are history: never edited, never deleted.
CREATE FUNCTION vouchers.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END;
$$;
CREATE TRIGGER voucher_events_append_only BEFORE UPDATE OR DELETE ON vouchers.voucher_events
    FOR EACH ROW EXECUTE FUNCTION vouchers.refuse_change();
CREATE TRIGGER vouchers_no_delete BEFORE DELETE ON vouchers.vouchers
    FOR EACH ROW EXECUTE FUNCTION vouchers.refuse_change();

-- issued/sent/redeemed/expired per day (the seed's view_voucher_metrics)
CREATE VIEW vouchers.view_voucher_metrics AS
    SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date AS day, event_type, station_id, count(*)::int AS count
    FROM vouchers.voucher_events
    WHERE event_type IN ('issued', 'sent', 'redeemed', 'expired', 'void')
    GROUP BY tenant_id, day, event_type, station_id;

-- redemptions per station (the seed's view_active_bars)
CREATE VIEW vouchers.view_active_bars AS
    SELECT e.tenant_id, e.station_id, s.name AS station_name, count(*)::int AS redemptions, max(e.created_at) AS last_redeemed_at,
           (e.created_at AT TIME ZONE 'UTC')::date AS day
    FROM vouchers.voucher_events e JOIN vouchers.stations s ON s.id = e.station_id
    WHERE e.event_type = 'redeemed'
    GROUP BY e.tenant_id, e.station_id, s.name, day;
