-- Insurance quotes (seed 000 `insurance_quotes`, storage bucket `docs`): a customer's request for cover, the
-- documents they uploaded, and a reviewer's decision. The seed kept the documents as a text[] of storage paths,
-- the premium as numeric(12,2) with no currency, and let the status take any of its three values in any order.
-- Here:
--
-- * the premium is an integer in minor units with its currency, like every amount in this schema;
-- * documents are rows of their own (one per upload, with the bytes' size and SHA-256, the type read from the
--   bytes themselves), the bytes in the blob store under the `docs/` prefix; a document is never changed or
--   deleted, so what a reviewer approved stays what was uploaded;
-- * the status moves only along the seed's state machine, enforced by a trigger whatever the code does:
--       pending → approved                   (a reviewer accepts; approved is final)
--       pending → needs_changes → pending    (a reviewer asks for changes with a comment; the customer resubmits)
--   so a quote that needs changes cannot be approved before it was resubmitted, and nothing leaves `approved`;
-- * a decision carries who made it and when; asking for changes needs a comment (the customer is told what to fix)
--   and approving needs a premium (the customer is told what the cover costs).

CREATE TABLE wallet.insurance_quotes (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    -- the customer: a marketplace buyer, or just a phone number and a name (at least one way to reach them)
    buyer_id uuid,
    customer_phone text CHECK (customer_phone ~ '^\+[1-9][0-9]{6,14}$'),
    customer_name text CHECK (length(customer_name) BETWEEN 1 AND 200),
    insurer text NOT NULL CHECK (length(insurer) BETWEEN 1 AND 200),
    cover_type text NOT NULL CHECK (length(cover_type) BETWEEN 1 AND 100),
    -- minor units; unknown until the insurer prices it (then the reviewer sets it when approving)
    premium_minor bigint CHECK (premium_minor > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'needs_changes')),
    reviewer_comment text CHECK (length(reviewer_comment) BETWEEN 1 AND 2000),
    reviewed_by text,
    reviewed_at timestamptz,
    approved_at timestamptz,
    -- when the customer last sent it back for review after changes were asked for
    resubmitted_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT insurance_quotes_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT insurance_quotes_buyer_fkey FOREIGN KEY (buyer_id, tenant_id) REFERENCES wallet.buyers (id, tenant_id),
    CONSTRAINT insurance_quotes_customer_check CHECK (buyer_id IS NOT NULL OR customer_phone IS NOT NULL),
    -- the customer must be told what to change
    CONSTRAINT insurance_quotes_comment_check CHECK (status <> 'needs_changes' OR reviewer_comment IS NOT NULL),
    -- an approval says what the cover costs, who approved it and when
    CONSTRAINT insurance_quotes_approved_check CHECK (
        status <> 'approved' OR (premium_minor IS NOT NULL AND approved_at IS NOT NULL AND reviewed_by IS NOT NULL))
);
-- the review queue: a tenant's quotes by status, oldest first (first come, first reviewed)
CREATE INDEX insurance_quotes_queue ON wallet.insurance_quotes (tenant_id, status, created_at, id);
CREATE INDEX insurance_quotes_by_tenant ON wallet.insurance_quotes (tenant_id, created_at, id);
CREATE INDEX insurance_quotes_by_buyer ON wallet.insurance_quotes (buyer_id) WHERE buyer_id IS NOT NULL;

-- The state machine, whatever the code does: a quote starts pending; pending → approved | needs_changes;
-- needs_changes → pending; approved is final (no field of an approved quote changes afterwards). The decision's
-- moments are set here, from the database's clock.
CREATE FUNCTION wallet.enforce_insurance_quote_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'pending' THEN
            RAISE EXCEPTION 'an insurance quote starts as pending, not %', NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'approved' THEN
        RAISE EXCEPTION 'an approved insurance quote never changes' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.tenant_id <> OLD.tenant_id OR NEW.created_at <> OLD.created_at OR NEW.created_by <> OLD.created_by THEN
        RAISE EXCEPTION 'an insurance quote''s tenant and creation never change' USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT ((OLD.status = 'pending' AND NEW.status IN ('approved', 'needs_changes'))
             OR (OLD.status = 'needs_changes' AND NEW.status = 'pending')) THEN
            RAISE EXCEPTION 'illegal insurance quote transition % -> %', OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status IN ('approved', 'needs_changes') THEN
            NEW.reviewed_at := now();
        END IF;
        IF NEW.status = 'approved' THEN
            NEW.approved_at := now();
        END IF;
        IF NEW.status = 'pending' THEN
            NEW.resubmitted_at := now();
        END IF;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
CREATE TRIGGER insurance_quotes_state_machine BEFORE INSERT OR UPDATE ON wallet.insurance_quotes
    FOR EACH ROW EXECUTE FUNCTION wallet.enforce_insurance_quote_transition();

-- A quote is never deleted: its decision and audit trail stay.
CREATE FUNCTION wallet.keep_insurance_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet.% rows are kept: they are what was reviewed', TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
CREATE TRIGGER insurance_quotes_no_delete BEFORE DELETE ON wallet.insurance_quotes
    FOR EACH ROW EXECUTE FUNCTION wallet.keep_insurance_record();

-- The uploaded documents. Only the four types the reviewer's browser shows inline are accepted (the service reads
-- the type from the bytes' magic numbers, never from the client's Content-Type); 10 MiB at most. The blob key is
-- content-addressed (`docs/<tenant>/<sha256>`), so a retried upload stores nothing new.
CREATE TABLE wallet.insurance_documents (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    quote_id uuid NOT NULL,
    blob_key text NOT NULL CHECK (blob_key ~ '^docs/[0-9a-f-]{36}/[0-9a-f]{64}$'),
    file_name text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type text NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg', 'image/webp')),
    size_bytes bigint NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT insurance_documents_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT insurance_documents_quote_fkey FOREIGN KEY (quote_id, tenant_id) REFERENCES wallet.insurance_quotes (id, tenant_id)
);
CREATE INDEX insurance_documents_by_quote ON wallet.insurance_documents (quote_id, uploaded_at, id);

-- What was uploaded is what was reviewed: documents are never changed or deleted.
CREATE TRIGGER insurance_documents_append_only BEFORE UPDATE OR DELETE ON wallet.insurance_documents
    FOR EACH ROW EXECUTE FUNCTION wallet.keep_insurance_record();

-- Nothing is added to an approved quote: its documents are the ones it was approved on.
CREATE FUNCTION wallet.insurance_document_open_quote() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM wallet.insurance_quotes WHERE id = NEW.quote_id AND status = 'approved') THEN
        RAISE EXCEPTION 'insurance quote % is approved: no more documents', NEW.quote_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER insurance_documents_open_quote BEFORE INSERT ON wallet.insurance_documents
    FOR EACH ROW EXECUTE FUNCTION wallet.insurance_document_open_quote();
