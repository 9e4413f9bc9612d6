-- Subscriptions (seed 002: plans lite, pro, enterprise) paid by M-Pesa Express (Daraja STK push), and their payments.
--
-- Seed 002 kept one row per subscription with `mpesa_checkout_id`, `mpesa_receipt_number` and `is_active DEFAULT
-- true`: a subscription was active before anyone paid, nothing said whether a payment had failed or was still
-- waiting, and nothing stopped one receipt from activating two subscriptions. Here:
--
-- * a tenant has one subscription row (its current plan and period), and every attempt to pay is a row of its own
--   in `subscription_payments`, with Daraja's ids, result and receipt;
-- * a subscription becomes active only in the database transaction that settles a payment as succeeded, and that
--   settlement happens only after an STK query confirmed it (Daraja signs nothing, so a callback alone proves
--   nothing); a payment that did not succeed leaves the subscription as it was;
-- * a checkout request id and a receipt number each belong to one payment (unique), so a replayed or forged
--   callback cannot pay twice;
-- * a tenant has at most one pending payment at a time (partial unique index): one prompt on the phone at once;
-- * a payment is settled once: `confirmed_at` is set exactly when it leaves `pending`.
--
-- Amounts are integers in minor units, as everywhere in this schema (KES 1,000 is 100000); M-Pesa takes whole
-- shillings, which the service checks before it pushes.

CREATE TABLE wallet.subscriptions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    plan text NOT NULL CHECK (plan IN ('lite', 'pro', 'enterprise')),
    status text NOT NULL DEFAULT 'pending_payment' CHECK (status IN ('pending_payment', 'active', 'past_due', 'cancelled')),
    -- what the current period cost (or, while pending_payment, what the first one will)
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    period_start timestamptz,
    period_end timestamptz,
    -- the receipt of the payment that paid the current period (NULL when only a query confirmed it so far)
    receipt_number text CHECK (length(receipt_number) <= 40),
    activated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscriptions_tenant_key UNIQUE (tenant_id),
    CONSTRAINT subscriptions_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT subscriptions_period CHECK ((period_start IS NULL) = (period_end IS NULL) AND (period_end IS NULL OR period_end > period_start)),
    -- an active or lapsed subscription was paid for a period
    CONSTRAINT subscriptions_paid CHECK (status NOT IN ('active', 'past_due') OR (period_start IS NOT NULL AND activated_at IS NOT NULL))
);
-- the sweeper's "active but its period ended" scan
CREATE INDEX subscriptions_lapsing ON wallet.subscriptions (period_end) WHERE status = 'active';

CREATE TABLE wallet.subscription_payments (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    -- M-Pesa (Kenya) through Daraja; Revolut (Malta) by a payment link from settings, recorded by hand
    provider text NOT NULL CHECK (provider IN ('mpesa', 'revolut')),
    -- the plan this payment buys
    plan text NOT NULL CHECK (plan IN ('lite', 'pro', 'enterprise')),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    phone text CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    -- made against the offline sandbox, not Daraja: nothing was paid
    sandbox boolean NOT NULL DEFAULT false,
    merchant_request_id text CHECK (length(merchant_request_id) <= 100),
    checkout_request_id text CHECK (length(checkout_request_id) <= 100),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled', 'timeout')),
    -- the confirmed result (from the STK query): 0 paid, 1032 cancelled, 1037 unreachable, 2001 wrong PIN, 1 no funds…
    result_code integer,
    result_description text CHECK (length(result_description) <= 500),
    receipt_number text CHECK (length(receipt_number) <= 40),
    -- what the first callback claimed, kept apart from the confirmed result: a callback is a hint, not a proof
    callback_at timestamptz,
    callback_result_code integer,
    callback_receipt text CHECK (length(callback_receipt) <= 40),
    callback_amount bigint,
    -- when the sweeper next asks Daraja (an STK query) about a payment still pending
    next_query_at timestamptz,
    query_attempts integer NOT NULL DEFAULT 0,
    requested_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    created_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_payments_subscription_fkey FOREIGN KEY (subscription_id, tenant_id)
        REFERENCES wallet.subscriptions (id, tenant_id),
    CONSTRAINT subscription_payments_checkout_key UNIQUE (checkout_request_id),
    CONSTRAINT subscription_payments_receipt_key UNIQUE (receipt_number),
    CONSTRAINT subscription_payments_mpesa CHECK (provider <> 'mpesa' OR (phone IS NOT NULL AND checkout_request_id IS NOT NULL)),
    CONSTRAINT subscription_payments_settled_once CHECK ((status = 'pending') = (confirmed_at IS NULL)),
    CONSTRAINT subscription_payments_receipt_paid CHECK (receipt_number IS NULL OR status = 'succeeded')
);
-- one prompt at a time per tenant
CREATE UNIQUE INDEX subscription_payments_one_pending ON wallet.subscription_payments (tenant_id) WHERE status = 'pending';
-- the sweeper's "no callback in time" scan
CREATE INDEX subscription_payments_due ON wallet.subscription_payments (next_query_at) WHERE status = 'pending';
CREATE INDEX subscription_payments_by_tenant ON wallet.subscription_payments (tenant_id, requested_at DESC, id);
