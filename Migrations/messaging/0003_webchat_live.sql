-- Web-chat visitors, and the notifications that push messages to open sockets.
--
-- Why a notification per message, from a trigger: a visitor's socket or a staff member's inbox is held by one
-- messaging replica, while the message it must show is written by another (the job worker that sent an agent
-- reply, the replica that took a webhook). Every replica LISTENs on `messaging_live`; the trigger makes every
-- insert and every status change announce itself at commit, whatever code path wrote it, so no writer can
-- forget to. The socket then reads the rows after the last sequence number it sent: a notification lost while a
-- listener reconnects costs nothing, because the next one (or the client's resume) reads from the database.
--
-- What seed 001's webchat got wrong: the visitor was identified by a client-chosen id sent with every request, so
-- anyone who knew (or guessed) it read the conversation. Here the visitor holds a random token; only its SHA-256
-- is stored, and the visitor's contact address is a separate random id that never leaves the server.

CREATE TABLE messaging.webchat_visitors (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    tenant_id uuid NOT NULL,
    channel_id uuid NOT NULL REFERENCES messaging.channels (id),
    contact_id uuid NOT NULL REFERENCES messaging.contacts (id),
    -- the number the visitor proved they hold (seed 001 `verify-phone`), E.164
    verified_phone text CHECK (verified_phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- a pending verification: the code's SHA-256, the number it was sent to, when it expires, tries left
    code_hash bytea CHECK (length(code_hash) = 32),
    code_phone text CHECK (code_phone ~ '^\+[1-9][0-9]{6,14}$'),
    code_expires_at timestamptz,
    code_attempts int NOT NULL DEFAULT 0 CHECK (code_attempts >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webchat_visitors_contact ON messaging.webchat_visitors (contact_id);

CREATE FUNCTION messaging.announce_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_live', json_build_object(
        'type', CASE WHEN TG_OP = 'INSERT' THEN 'message' ELSE 'status' END,
        'tenantId', NEW.tenant_id, 'channelId', NEW.channel_id, 'conversationId', NEW.conversation_id, 'messageId', NEW.id,
        'sequenceNo', NEW.sequence_no, 'direction', NEW.direction, 'status', NEW.status)::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_announce_insert AFTER INSERT ON messaging.messages
    FOR EACH ROW EXECUTE FUNCTION messaging.announce_message();
CREATE TRIGGER messages_announce_status AFTER UPDATE OF status ON messaging.messages
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION messaging.announce_message();

-- a conversation closed, escalated or handed back: the inbox shows it at once
CREATE FUNCTION messaging.announce_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('messaging_live', json_build_object(
        'type', 'conversation', 'tenantId', NEW.tenant_id, 'channelId', NEW.channel_id, 'conversationId', NEW.id,
        'status', NEW.status)::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER conversations_announce_status AFTER UPDATE OF status ON messaging.conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION messaging.announce_conversation();
