-- Redemption checks the caller's station first. 0003 checked the guessing lock before anything else, and the lock
-- key named only the station: operators of one tenant, bound (through a gateway bug since fixed) to another
-- tenant's station, could fail on purpose and lock that station out. The gateway now binds operators only to
-- stations of their own tenant, the lock keys carry the tenant, and this function refuses a station that is not an
-- active station of the caller's tenant before it looks at any lock. Everything else is as in 0003.
CREATE OR REPLACE FUNCTION vouchers.redeem(p_tenant uuid, p_code text, p_station uuid, p_actor text, p_request_id text, p_guards text[])
RETURNS TABLE (outcome text, retry_after int, voucher_id uuid, amount_minor bigint, currency text, msisdn text, redeemed_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    locked_for int;
    found_id uuid;
    previous text;
    v_amount bigint;
    v_currency text;
    v_msisdn text;
    v_redeemed timestamptz;
    v_status text;
    v_expired boolean;
    v_scope uuid;
    v_active boolean;
BEGIN
    -- the caller's station must be an active station of the caller's tenant before anything else is looked at,
    -- the guessing lock included: an operator bound to another tenant's station can neither redeem there nor
    -- lock it (the lock keys carry the tenant too)
    SELECT s.status = 'active' INTO v_active FROM vouchers.stations s WHERE s.id = p_station AND s.tenant_id = p_tenant;
    IF v_active IS NOT TRUE THEN
        RETURN QUERY SELECT 'station_inactive'::text, NULL::int, NULL::uuid, NULL::bigint, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;

    SELECT ceil(extract(epoch FROM max(f.locked_until) - now()))::int INTO locked_for
    FROM vouchers.failure_counters f WHERE f.key = ANY (p_guards) AND f.locked_until > now();
    IF locked_for > 0 THEN
        RETURN QUERY SELECT 'locked'::text, locked_for, NULL::uuid, NULL::bigint, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;

    PERFORM set_config('sokoni.actor', p_actor, true), set_config('sokoni.station', p_station::text, true),
            set_config('sokoni.context', '{}', true);

    WITH target AS (
        SELECT v.id, v.status AS previous_status FROM vouchers.vouchers v
        WHERE v.tenant_id = p_tenant AND v.code = p_code AND v.status IN ('issued', 'sent')
          AND (v.expires_at IS NULL OR v.expires_at > now())
          AND (v.station_scope IS NULL OR v.station_scope = p_station)
          AND EXISTS (SELECT 1 FROM vouchers.stations s WHERE s.id = p_station AND s.tenant_id = p_tenant AND s.status = 'active')
        FOR UPDATE OF v)
    UPDATE vouchers.vouchers v SET status = 'redeemed', redeemed_at = now(), redeemed_station_id = p_station
    FROM target WHERE v.id = target.id
    RETURNING v.id, target.previous_status, v.amount_minor, v.currency, v.msisdn, v.redeemed_at
    INTO found_id, previous, v_amount, v_currency, v_msisdn, v_redeemed;

    IF found_id IS NULL THEN
        -- say why nothing matched
        SELECT v.status, v.expires_at IS NOT NULL AND v.expires_at <= now(), v.station_scope INTO v_status, v_expired, v_scope
        FROM vouchers.vouchers v WHERE v.tenant_id = p_tenant AND v.code = p_code;
        IF NOT FOUND THEN
            outcome := 'unknown_code';
        ELSIF v_status IN ('redeemed', 'void', 'expired') THEN
            outcome := CASE v_status WHEN 'redeemed' THEN 'already_redeemed' ELSE v_status END;
        ELSIF v_expired THEN
            outcome := 'expired';
        ELSE
            SELECT s.status = 'active' INTO v_active FROM vouchers.stations s WHERE s.id = p_station AND s.tenant_id = p_tenant;
            IF v_active IS NOT TRUE THEN
                outcome := 'station_inactive';
            ELSIF v_scope IS NOT NULL AND v_scope <> p_station THEN
                outcome := 'wrong_station';
            ELSE
                outcome := 'not_redeemable';
            END IF;
        END IF;
        RETURN QUERY SELECT outcome, NULL::int, NULL::uuid, NULL::bigint, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;

    INSERT INTO vouchers.audit_log (tenant_id, actor, action, target_table, target_id, diff, request_id)
    VALUES (p_tenant, p_actor, 'voucher.redeem', 'vouchers', found_id::text,
            jsonb_build_object('status', jsonb_build_object('before', previous, 'after', 'redeemed'),
                               'redeemedStationId', jsonb_build_object('before', NULL, 'after', p_station)),
            p_request_id);
    INSERT INTO vouchers.jobs (kind, payload, max_attempts, request_id)
    VALUES ('voucher.notify_redeemed',
            jsonb_build_object('voucherId', found_id, 'tenantId', p_tenant, 'msisdn', v_msisdn, 'code', p_code,
                               'amountMinor', v_amount, 'currency', v_currency, 'stationId', p_station),
            60, p_request_id);
    RETURN QUERY SELECT 'redeemed'::text, NULL::int, found_id, v_amount, v_currency, v_msisdn, v_redeemed;
END;
$$;
