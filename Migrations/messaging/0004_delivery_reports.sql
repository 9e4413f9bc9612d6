-- Delivery reports to the service that asked for a message (vouchers: a voucher's card, so the voucher becomes
-- `sent` when its message is).
--
-- Why a trigger that queues the job: a message's status moves in four places (the sender's answer, the sandbox,
-- provider webhooks, email events), and a report must follow every move, in the transaction that made it, so a
-- crash between the status and its report cannot lose the report. The job carries only the message id and the
-- status it reached; the worker reads the rest (`message.callback`) and posts `MessagingAPI.DeliveryReport`.

CREATE FUNCTION messaging.queue_delivery_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO messaging.jobs (kind, payload, max_attempts)
    VALUES ('message.callback', jsonb_build_object('messageId', NEW.id, 'tenantId', NEW.tenant_id, 'status', NEW.status), 30);
    RETURN NULL;
END;
$$;
CREATE TRIGGER messages_delivery_report AFTER UPDATE OF status ON messaging.messages
    FOR EACH ROW WHEN (NEW.callback IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
                       AND NEW.status IN ('sent', 'delivered', 'read', 'failed', 'blocked'))
    EXECUTE FUNCTION messaging.queue_delivery_report();
