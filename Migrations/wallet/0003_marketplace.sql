-- The marketplace: vendors and buyers with their wallets, products, commission schedules, and the purchase flow
-- intent → quotes → one accepted quote → a purchase settled on the ledger (0002).
--
-- easyMO (seeds.md §4.4) took the price from the client, redirected a commission larger than the amount to the
-- platform without a word, and ran the purchase and its transfer as two steps with nothing to undo the first when
-- the second failed. Here:
--
-- * a purchase carries the accepted quote's price, copied by the database transaction that accepts it; the API
--   never takes a price for a purchase;
-- * a commission is never more than its purchase (a check), and the schedule that set it is recorded;
-- * at most one quote of an intent is accepted and an intent has at most one purchase (unique indexes), so two
--   concurrent acceptances cannot both win whatever the code does;
-- * the purchase's funds are reserved by a ledger hold in the same database transaction that accepts the quote:
--   completing posts the hold, cancelling voids it, and a hold that times out fails the purchase (nothing
--   half-posted, nothing reserved forever).
--
-- Ratings and rates are not money, so numeric is fine for them; every amount is an integer in minor units.

CREATE TABLE wallet.vendors (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    region text CHECK (length(region) <= 100),
    categories text[] NOT NULL DEFAULT '{}',
    rating numeric(3, 2) CHECK (rating BETWEEN 0 AND 5),
    fulfilment_rate numeric(5, 4) CHECK (fulfilment_rate BETWEEN 0 AND 1),
    avg_response_ms bigint CHECK (avg_response_ms >= 0),
    total_trips integer NOT NULL DEFAULT 0 CHECK (total_trips >= 0),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    account_id uuid NOT NULL,
    currency text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vendors_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT vendors_account_fkey FOREIGN KEY (account_id, tenant_id, currency) REFERENCES wallet.accounts (id, tenant_id, currency)
);
CREATE INDEX vendors_by_tenant ON wallet.vendors (tenant_id, name, id);
CREATE INDEX vendors_by_category ON wallet.vendors USING gin (categories);

CREATE TABLE wallet.buyers (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    segment text CHECK (length(segment) <= 60),
    account_id uuid NOT NULL,
    currency text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT buyers_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT buyers_account_fkey FOREIGN KEY (account_id, tenant_id, currency) REFERENCES wallet.accounts (id, tenant_id, currency)
);
CREATE INDEX buyers_by_tenant ON wallet.buyers (tenant_id, name, id);
-- one buyer per phone in a tenant: a second intent from the same customer finds the same wallet
CREATE UNIQUE INDEX buyers_phone_key ON wallet.buyers (tenant_id, phone) WHERE phone IS NOT NULL;

-- Seed 002's products: searchable by words (name, description, category) and by metadata containment (GIN).
CREATE TABLE wallet.products (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 4000),
    category text CHECK (length(category) <= 100),
    price bigint NOT NULL CHECK (price > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    available boolean NOT NULL DEFAULT true,
    metadata jsonb NOT NULL DEFAULT '{}',
    search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', name || ' ' || coalesce(description, '') || ' ' || coalesce(category, ''))) STORED,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT products_vendor_fkey FOREIGN KEY (vendor_id, tenant_id) REFERENCES wallet.vendors (id, tenant_id)
);
CREATE INDEX products_by_tenant ON wallet.products (tenant_id, name, id);
CREATE INDEX products_by_vendor ON wallet.products (vendor_id);
CREATE INDEX products_metadata ON wallet.products USING gin (metadata jsonb_path_ops);
CREATE INDEX products_search ON wallet.products USING gin (search);

-- The commission in force at a moment: the newest schedule effective by then, the product's own before the
-- tenant's default (product_id NULL). Rates are in basis points (seed: NUMERIC(5,4), i.e. 0.0001 steps).
CREATE TABLE wallet.commission_schedules (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    product_id uuid,
    rate_bps integer NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
    flat_fee bigint NOT NULL DEFAULT 0 CHECK (flat_fee >= 0),
    currency text CHECK (currency ~ '^[A-Z]{3}$'),
    effective_from timestamptz NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT commission_schedules_fee_currency CHECK (flat_fee = 0 OR currency IS NOT NULL),
    CONSTRAINT commission_schedules_product_fkey FOREIGN KEY (product_id, tenant_id) REFERENCES wallet.products (id, tenant_id),
    CONSTRAINT commission_schedules_moment_key UNIQUE NULLS NOT DISTINCT (tenant_id, product_id, effective_from)
);
CREATE INDEX commission_schedules_in_force ON wallet.commission_schedules (tenant_id, product_id, effective_from DESC);

CREATE TABLE wallet.intents (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    buyer_id uuid NOT NULL,
    channel text NOT NULL CHECK (channel IN ('whatsapp', 'instagram', 'sms', 'telegram', 'webchat', 'voice', 'lead_form', 'web', 'api')),
    category text CHECK (length(category) <= 100),
    region text CHECK (length(region) <= 100),
    product_id uuid,
    description text CHECK (length(description) <= 2000),
    payload jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'matched', 'expired', 'cancelled')),
    expires_at timestamptz NOT NULL,
    conversation_id text CHECK (length(conversation_id) <= 120),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT intents_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT intents_buyer_fkey FOREIGN KEY (buyer_id, tenant_id) REFERENCES wallet.buyers (id, tenant_id),
    CONSTRAINT intents_product_fkey FOREIGN KEY (product_id, tenant_id) REFERENCES wallet.products (id, tenant_id)
);
CREATE INDEX intents_by_tenant ON wallet.intents (tenant_id, created_at DESC, id);
CREATE INDEX intents_due ON wallet.intents (expires_at) WHERE status = 'pending';

CREATE TABLE wallet.quotes (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    intent_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    product_id uuid,
    price bigint NOT NULL CHECK (price > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    eta_minutes integer NOT NULL CHECK (eta_minutes BETWEEN 0 AND 525600),
    note text CHECK (length(note) <= 1000),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'expired')),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    decided_at timestamptz,
    CONSTRAINT quotes_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT quotes_intent_fkey FOREIGN KEY (intent_id, tenant_id) REFERENCES wallet.intents (id, tenant_id),
    CONSTRAINT quotes_vendor_fkey FOREIGN KEY (vendor_id, tenant_id) REFERENCES wallet.vendors (id, tenant_id),
    CONSTRAINT quotes_product_fkey FOREIGN KEY (product_id, tenant_id) REFERENCES wallet.products (id, tenant_id),
    CONSTRAINT quotes_decided CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX quotes_by_intent ON wallet.quotes (intent_id, created_at);
-- a vendor has one open quote per intent (a new price replaces it: the old one is rejected first)
CREATE UNIQUE INDEX quotes_one_open_per_vendor ON wallet.quotes (intent_id, vendor_id) WHERE status = 'pending';
-- one accepted quote per intent, whatever races
CREATE UNIQUE INDEX quotes_one_accepted ON wallet.quotes (intent_id) WHERE status = 'accepted';

CREATE TABLE wallet.purchases (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    quote_id uuid NOT NULL,
    intent_id uuid NOT NULL,
    buyer_id uuid NOT NULL,
    vendor_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    commission bigint NOT NULL CHECK (commission >= 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    commission_schedule_id uuid REFERENCES wallet.commission_schedules (id),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'cancelled', 'failed')),
    hold_id uuid NOT NULL REFERENCES wallet.holds (id),
    transaction_id uuid,
    failure_reason text CHECK (length(failure_reason) <= 500),
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT purchases_quote_key UNIQUE (quote_id),
    CONSTRAINT purchases_intent_key UNIQUE (intent_id),
    CONSTRAINT purchases_quote_fkey FOREIGN KEY (quote_id, tenant_id) REFERENCES wallet.quotes (id, tenant_id),
    CONSTRAINT purchases_commission_within_amount CHECK (commission <= amount),
    CONSTRAINT purchases_completed_posted CHECK ((status = 'completed') = (transaction_id IS NOT NULL)),
    CONSTRAINT purchases_transaction_fkey FOREIGN KEY (transaction_id, tenant_id) REFERENCES wallet.transactions (id, tenant_id)
);
CREATE INDEX purchases_by_tenant ON wallet.purchases (tenant_id, created_at DESC, id);
CREATE INDEX purchases_by_hold ON wallet.purchases (hold_id);
