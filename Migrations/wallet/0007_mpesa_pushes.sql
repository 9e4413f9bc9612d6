-- Every STK push Daraja accepted, written the moment it answers and outside the request's transaction.
--
-- A start writes its payment row in the request's transaction after the push (the push needs the tenant's
-- subscription locked so two starts cannot both prompt; the payment row needs the push's checkout id). If that
-- transaction then fails (the connection drops, the commit fails) the customer still has the prompt on the phone and
-- may pay, and without this journal nothing would remember the checkout: the callback would name an unknown
-- checkout and no query would ever ask about it. A push with no payment after a grace period is adopted by the
-- subscription sweeper as a pending payment, which the STK query then settles like any other.
CREATE TABLE wallet.mpesa_pushes (
    checkout_request_id text PRIMARY KEY CHECK (length(checkout_request_id) BETWEEN 1 AND 100),
    merchant_request_id text CHECK (length(merchant_request_id) <= 100),
    tenant_id uuid NOT NULL,
    plan text NOT NULL CHECK (plan IN ('lite', 'pro', 'enterprise')),
    amount bigint NOT NULL CHECK (amount > 0),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    sandbox boolean NOT NULL,
    created_by text NOT NULL,
    pushed_at timestamptz NOT NULL DEFAULT now()
);

-- the sweeper's "old enough, and no payment yet" scan, and the retention delete
CREATE INDEX mpesa_pushes_pushed_at ON wallet.mpesa_pushes (pushed_at);
