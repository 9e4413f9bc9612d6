-- Outbound calls and Twilio's call status callbacks. A call asked of the platform (`POST /v1/calls`) is a row from
-- the moment it is asked (`queued`), before the provider is called, so a provider that answers late or not at all
-- leaves a call that says so rather than none; Twilio's status callbacks then move it forward only (queued → ringing
-- → in-progress → an end), whatever order they arrive in. The tenant's Twilio credentials are sealed like the
-- webhook secret (AES-GCM, key id kept for rotation). The sandbox provider places no call: it records the request.
ALTER TABLE agent.voice_settings
    ADD COLUMN twilio_account_sid text CHECK (twilio_account_sid ~ '^AC[0-9a-fA-F]{32}$'),
    ADD COLUMN twilio_auth_token bytea,
    ADD COLUMN twilio_key_id text,
    ADD COLUMN twilio_from text CHECK (twilio_from ~ '^\+[1-9][0-9]{6,14}$'),
    ADD CONSTRAINT voice_settings_twilio CHECK (
        (twilio_account_sid IS NULL) = (twilio_auth_token IS NULL) AND (twilio_auth_token IS NULL) = (twilio_key_id IS NULL)
        AND (twilio_account_sid IS NULL) = (twilio_from IS NULL));

ALTER TABLE agent.calls DROP CONSTRAINT calls_provider_check;
ALTER TABLE agent.calls ADD CONSTRAINT calls_provider_check CHECK (provider IN ('vapi', 'manual', 'twilio', 'sandbox'));
ALTER TABLE agent.calls DROP CONSTRAINT calls_status_check;
ALTER TABLE agent.calls ADD CONSTRAINT calls_status_check CHECK (
    status IN ('queued', 'ringing', 'in-progress', 'completed', 'failed', 'no-answer', 'busy', 'canceled'));
-- who asked for an outbound call, and why (said to the callee when the provider answers)
ALTER TABLE agent.calls ADD COLUMN requested_by text CHECK (length(requested_by) <= 200);
ALTER TABLE agent.calls ADD COLUMN purpose text CHECK (length(purpose) <= 500);
