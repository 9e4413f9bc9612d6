-- Failed attempts per key (an account, an address, an operator, a station), for lockouts against guessing.
CREATE TABLE failure_counters (
    key text PRIMARY KEY,
    failures int NOT NULL,
    first_failed_at timestamptz NOT NULL,
    locked_until timestamptz
);
