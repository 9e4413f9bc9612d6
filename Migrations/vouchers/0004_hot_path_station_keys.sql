-- Every redemption at a station referenced its row twice through foreign keys (vouchers.redeemed_station_id and the
-- redeemed event's station_id), and each check takes a KEY SHARE lock on that row. Many concurrent lockers of one
-- row make PostgreSQL build a new MultiXact per lock, so a busy station serialised its own redemptions: dropping the
-- two keys gave 15% more redemptions per second with PostgreSQL alone. What the keys guaranteed still holds:
-- vouchers.redeem() sets both columns only after checking, in the same statement, that the station exists and is
-- active in the tenant, and from here on a station is never deleted and never changes its id.
ALTER TABLE vouchers.vouchers DROP CONSTRAINT vouchers_redeemed_station_id_fkey;
ALTER TABLE vouchers.voucher_events DROP CONSTRAINT voucher_events_station_id_fkey;

CREATE FUNCTION vouchers.keep_station() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'stations are never deleted; set their status to inactive' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.id <> OLD.id OR NEW.tenant_id <> OLD.tenant_id THEN
        RAISE EXCEPTION 'a station''s id and tenant never change' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER stations_kept BEFORE UPDATE OR DELETE ON vouchers.stations FOR EACH ROW EXECUTE FUNCTION vouchers.keep_station();
