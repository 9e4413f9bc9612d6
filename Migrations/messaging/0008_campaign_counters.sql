-- What a campaign at speed needs of the database: measured with `sokoni-bench campaign` (100,000 targets), the
-- live funnel counted every target four times a second, and every send took its throttle in a transaction of four
-- round trips holding the channel's counter row.

-- Progress counters per campaign and status, kept by statement triggers on campaign_targets: the funnel and the
-- campaign lists read a few rows instead of counting every target. A status change touches two counter rows of the
-- target's shard (its id mod 16), so the senders' concurrent moves seldom wait for one another.
CREATE TABLE messaging.campaign_counts (
    campaign_id uuid NOT NULL REFERENCES messaging.campaigns (id),
    status text NOT NULL,
    shard smallint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (campaign_id, status, shard)
);

INSERT INTO messaging.campaign_counts (campaign_id, status, shard, n)
SELECT campaign_id, status, (id % 16)::smallint, count(*) FROM messaging.campaign_targets GROUP BY 1, 2, 3;

-- counter rows in one order (campaign, status, shard) everywhere, so two statements never wait on each other crosswise
CREATE FUNCTION messaging.count_targets_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging.campaign_counts AS c (campaign_id, status, shard, n)
    SELECT campaign_id, status, (id % 16)::smallint, count(*) FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (campaign_id, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER campaign_targets_count_inserted AFTER INSERT ON messaging.campaign_targets
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION messaging.count_targets_inserted();

CREATE FUNCTION messaging.count_targets_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging.campaign_counts AS c (campaign_id, status, shard, n)
    SELECT campaign_id, status, shard, sum(delta) FROM (
        SELECT b.campaign_id, b.status, (b.id % 16)::smallint AS shard, -1 AS delta
        FROM before b JOIN after a ON a.id = b.id WHERE a.status <> b.status
        UNION ALL
        SELECT a.campaign_id, a.status, (a.id % 16)::smallint, 1
        FROM before b JOIN after a ON a.id = b.id WHERE a.status <> b.status
    ) moves
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (campaign_id, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER campaign_targets_count_updated AFTER UPDATE ON messaging.campaign_targets
    REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT EXECUTE FUNCTION messaging.count_targets_updated();

-- targets are never deleted (a campaign keeps its history); should one be, its count goes with it
CREATE FUNCTION messaging.count_targets_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging.campaign_counts AS c (campaign_id, status, shard, n)
    SELECT campaign_id, status, (id % 16)::smallint, -count(*) FROM deleted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (campaign_id, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER campaign_targets_count_deleted AFTER DELETE ON messaging.campaign_targets
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION messaging.count_targets_deleted();

-- the rest of the funnel: the flagged sends, and the sends of the last minute (an index range, not every sent target)
CREATE INDEX campaign_targets_review ON messaging.campaign_targets (campaign_id) WHERE needs_review;
CREATE INDEX campaign_targets_recent ON messaging.campaign_targets (campaign_id, updated_at) WHERE status IN ('sent', 'delivered', 'read');
-- failure reasons read the few targets that did not get it
CREATE INDEX campaign_targets_unsent ON messaging.campaign_targets (campaign_id, error_code)
    WHERE status IN ('failed', 'opted_out', 'expired', 'cancelled');

-- One send taken from every bucket it counts against (a fixed window per key), all or none, in one statement: the
-- buckets already counted give their send back when a later one is full (the block's subtransaction rolls back).
-- Answers NULL when taken, otherwise when the full bucket's window ends.
CREATE FUNCTION messaging.take_send(keys text[], windows double precision[], limits int[], at timestamptz)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    starts timestamptz;
    taken bigint;
    full_until timestamptz;
BEGIN
    BEGIN
        FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
            starts := to_timestamp(floor(extract(epoch FROM at) / windows[i]) * windows[i]);
            INSERT INTO messaging.send_counters AS c (key, window_start, count) VALUES (keys[i], starts, 1)
            ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + 1 WHERE c.count < limits[i]
            RETURNING count INTO taken;
            IF taken IS NULL THEN
                full_until := starts + make_interval(secs => windows[i]);
                RAISE EXCEPTION USING ERRCODE = 'SKFUL';
            END IF;
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'SKFUL' THEN
        RETURN full_until;
    END;
    RETURN NULL;
END;
$$;
