-- The ledger: accounts, transactions, entries and holds, in double entry.
--
-- easyMO's wallet (seeds.md §4.4) let balances go negative, let frozen accounts transact, double-posted a retried
-- transfer (its reference was not unique), cascaded deletes through its history and kept mutable balances. Here the
-- database holds each rule itself, so that no code path (a new endpoint, a hand-typed psql session) can break it:
--
-- * an entry's currency is its account's and its tenant its transaction's (composite foreign keys);
-- * every transaction balances per currency: credits = debits, checked at commit by a deferred constraint trigger
--   (a transaction's entries are inserted one by one, so only the whole can be checked);
-- * entries and transactions are never updated or deleted (triggers): a correction is a reversal transaction
--   linked to the original, and a transaction is reversed at most once (`reverses` is unique);
-- * an account's balance moves only by an entry: the entry's insert trigger moves it and records the balance after,
--   so the stored balance is the sum of the account's entries (the invariant check verifies this too);
-- * frozen and closed accounts take no entries (the same trigger), and a closed account is empty;
-- * balance − held ≥ 0, unless the account is a platform account opened to go below (the funding account that
--   top-ups come from): a check constraint, so a race between two postings can never overdraw.
--
-- Amounts are integers in the currency's minor units. A credit raises an account's balance and a debit lowers
-- it; every transaction balancing, the balances of a tenant's accounts in one currency always sum to zero.

CREATE TABLE wallet.accounts (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    owner_type text NOT NULL CHECK (owner_type IN ('vendor', 'buyer', 'platform', 'commission')),
    owner_id text NOT NULL CHECK (length(owner_id) BETWEEN 1 AND 120),
    currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    name text CHECK (length(name) <= 200),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen', 'closed')),
    allow_negative boolean NOT NULL DEFAULT false,
    balance bigint NOT NULL DEFAULT 0,
    -- what pending holds reserve: not spendable, still the owner's until a hold is posted
    held bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT accounts_owner_key UNIQUE (tenant_id, owner_type, owner_id, currency),
    CONSTRAINT accounts_identity_key UNIQUE (id, tenant_id, currency),
    CONSTRAINT accounts_negative_only_platform CHECK (NOT allow_negative OR owner_type = 'platform'),
    CONSTRAINT accounts_no_overdraft CHECK (allow_negative OR balance - held >= 0),
    CONSTRAINT accounts_closed_empty CHECK (status <> 'closed' OR (balance = 0 AND held = 0))
);
CREATE INDEX accounts_by_tenant ON wallet.accounts (tenant_id, owner_type, currency, id);

CREATE TABLE wallet.transactions (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    type text NOT NULL CHECK (type IN ('purchase', 'payout', 'commission', 'adjustment', 'topup', 'reversal')),
    -- the caller's idempotency reference: a retry with the same one gets the first transaction back
    reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
    -- what was asked (type, legs, reason, metadata), hashed: the same reference for another request is refused
    request_hash text NOT NULL,
    reverses uuid,
    hold_id uuid,
    reason text CHECK (length(reason) <= 500),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transactions_reference_key UNIQUE (tenant_id, reference),
    CONSTRAINT transactions_identity_key UNIQUE (id, tenant_id),
    CONSTRAINT transactions_reverses_key UNIQUE (reverses),
    CONSTRAINT transactions_reverses_fkey FOREIGN KEY (reverses, tenant_id) REFERENCES wallet.transactions (id, tenant_id),
    CONSTRAINT transactions_reversal_links CHECK ((type = 'reversal') = (reverses IS NOT NULL))
);
CREATE INDEX transactions_by_tenant ON wallet.transactions (tenant_id, created_at DESC, id);

CREATE TABLE wallet.entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL,
    account_id uuid NOT NULL,
    tenant_id uuid NOT NULL,
    currency text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount bigint NOT NULL CHECK (amount > 0),
    -- set by the insert trigger: the account's balance once this entry is posted (a statement's running balance)
    balance_after bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT entries_transaction_fkey FOREIGN KEY (transaction_id, tenant_id) REFERENCES wallet.transactions (id, tenant_id),
    CONSTRAINT entries_account_fkey FOREIGN KEY (account_id, tenant_id, currency) REFERENCES wallet.accounts (id, tenant_id, currency)
);
CREATE INDEX entries_by_account ON wallet.entries (account_id, created_at, id);
CREATE INDEX entries_by_transaction ON wallet.entries (transaction_id);

-- Two-phase transfers: a hold reserves its legs' amounts on their debit accounts (`held`), then is posted (one
-- transaction of those legs), voided, or expires at `expires_at` (the sweeper voids it).
CREATE TABLE wallet.holds (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    type text NOT NULL CHECK (type IN ('purchase', 'payout', 'commission', 'adjustment', 'topup')),
    reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
    request_hash text NOT NULL,
    currency text NOT NULL,
    -- [{"from": account id, "to": account id, "amount": minor units}], as posted when the hold is
    legs jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
    expires_at timestamptz NOT NULL,
    transaction_id uuid,
    reason text CHECK (length(reason) <= 500),
    metadata jsonb NOT NULL DEFAULT '{}',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    CONSTRAINT holds_reference_key UNIQUE (tenant_id, reference),
    CONSTRAINT holds_transaction_fkey FOREIGN KEY (transaction_id, tenant_id) REFERENCES wallet.transactions (id, tenant_id),
    CONSTRAINT holds_posted_has_transaction CHECK ((status = 'posted') = (transaction_id IS NOT NULL)),
    CONSTRAINT holds_resolved CHECK ((status = 'pending') = (resolved_at IS NULL))
);
CREATE INDEX holds_due ON wallet.holds (expires_at) WHERE status = 'pending';
CREATE INDEX holds_by_tenant ON wallet.holds (tenant_id, created_at DESC, id);

CREATE FUNCTION wallet.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallet.% is append-only: post a reversal instead', TG_TABLE_NAME USING ERRCODE = 'WL001';
END $$;

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON wallet.entries FOR EACH ROW EXECUTE FUNCTION wallet.refuse_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON wallet.entries FOR EACH STATEMENT EXECUTE FUNCTION wallet.refuse_change();
CREATE TRIGGER transactions_append_only BEFORE UPDATE OR DELETE ON wallet.transactions FOR EACH ROW EXECUTE FUNCTION wallet.refuse_change();
CREATE TRIGGER transactions_no_truncate BEFORE TRUNCATE ON wallet.transactions FOR EACH STATEMENT EXECUTE FUNCTION wallet.refuse_change();

-- An entry moves its account's balance and records the balance after; a frozen or closed account takes none. Its
-- time is the clock's when the account's lock is held (`now()` is when the transaction began: a posting that began
-- first but took the lock second would otherwise look earlier than the entry before it in a statement).
CREATE FUNCTION wallet.post_entry() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    account_status text;
BEGIN
    NEW.created_at := clock_timestamp();
    UPDATE wallet.accounts
    SET balance = balance + CASE NEW.direction WHEN 'credit' THEN NEW.amount ELSE -NEW.amount END, updated_at = now()
    WHERE id = NEW.account_id
    RETURNING balance, status INTO NEW.balance_after, account_status;
    IF account_status <> 'active' THEN
        RAISE EXCEPTION 'account % is %', NEW.account_id, account_status USING ERRCODE = 'WL002';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER entries_post BEFORE INSERT ON wallet.entries FOR EACH ROW EXECUTE FUNCTION wallet.post_entry();

CREATE FUNCTION wallet.check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
BEGIN
    SELECT currency INTO unbalanced FROM wallet.entries WHERE transaction_id = NEW.transaction_id
    GROUP BY currency HAVING sum(CASE direction WHEN 'credit' THEN amount ELSE -amount END) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'transaction % does not balance in %', NEW.transaction_id, unbalanced USING ERRCODE = 'WL003';
    END IF;
    RETURN NULL;
END $$;

-- at commit, for each entry: each check sees all of its transaction's entries by then
CREATE CONSTRAINT TRIGGER entries_balanced AFTER INSERT ON wallet.entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION wallet.check_balanced();
