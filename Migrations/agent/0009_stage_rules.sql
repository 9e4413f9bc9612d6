-- Stage automation: a tenant's rules that move leads by themselves (seed 003's campaign triggers `lead_score`,
-- `inactivity` and events, which there only started campaigns and never said why a lead moved). Every automatic move
-- is a `stage_changed` row of the timeline naming its rule (`data.rule`, `data.automatic`), and those rows are the
-- feed other services read (`GET /v1/leads/changes`, after an activity id) to act on moves: the campaigns enrol
-- leads on it.
CREATE TABLE agent.stage_rules (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    trigger text NOT NULL CHECK (trigger IN ('score_at_least', 'score_below', 'inactive_days', 'event')),
    threshold integer,
    event text,
    from_stages text[] NOT NULL DEFAULT '{}',
    to_stage text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    CONSTRAINT stage_rules_needs CHECK (CASE trigger
        WHEN 'event' THEN event IS NOT NULL AND threshold IS NULL
        WHEN 'inactive_days' THEN threshold BETWEEN 1 AND 365 AND event IS NULL
        ELSE threshold BETWEEN 0 AND 100 AND event IS NULL END),
    UNIQUE (tenant_id, position)
);
CREATE INDEX stage_rules_inactive ON agent.stage_rules (trigger) WHERE trigger = 'inactive_days' AND enabled;

-- the feed of moves, tenant by tenant, in order
CREATE INDEX lead_activity_moves ON agent.lead_activity (tenant_id, id) WHERE kind = 'stage_changed';
