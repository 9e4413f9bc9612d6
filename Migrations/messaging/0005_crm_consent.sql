-- The CRM (agent-core's leads) and this list are one opt-out, kept in step both ways: a change here is queued to the
-- CRM as a `crm.event` job in the same transaction, and a person changing a lead's opt-in reaches this list through
-- `PUT /v1/messaging/consent` (recorded with source `crm`). Seed 000 kept an OptOut table and a lead flag that
-- nothing reconciled; here neither side can change without the other hearing of it.
ALTER TABLE messaging.opt_outs DROP CONSTRAINT opt_outs_source_check;
ALTER TABLE messaging.opt_outs ADD CONSTRAINT opt_outs_source_check CHECK (source IN ('keyword', 'provider', 'api', 'import', 'crm'));
