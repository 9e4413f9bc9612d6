-- Identity: tenants, users and their roles, API keys, refresh tokens.

CREATE TABLE identity.tenants (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    countries text[] NOT NULL DEFAULT '{}',
    time_zone text NOT NULL DEFAULT 'Africa/Kigali',
    currency text NOT NULL DEFAULT 'RWF' CHECK (currency ~ '^[A-Z]{3}$'),
    language text NOT NULL DEFAULT 'en',
    plan text NOT NULL DEFAULT 'lite' CHECK (plan IN ('lite', 'pro', 'enterprise')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'trial')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE identity.users (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES identity.tenants (id),
    email text NOT NULL,
    password_hash text NOT NULL,
    name text NOT NULL DEFAULT '',
    station_id uuid,
    active boolean NOT NULL DEFAULT true,
    last_seen_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON identity.users (lower(email));
CREATE INDEX users_tenant ON identity.users (tenant_id);

-- One row per grant, with who granted it and when; removals are in the audit log.
CREATE TABLE identity.user_roles (
    user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('super_admin', 'support', 'data_ops', 'readonly', 'tenant_admin', 'agent', 'station_operator', 'service')),
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);

CREATE TABLE identity.api_keys (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES identity.tenants (id),
    name text NOT NULL,
    prefix text NOT NULL UNIQUE,
    secret_hash text NOT NULL,
    scopes text[] NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON identity.api_keys (tenant_id, created_at);

-- Opaque refresh tokens, stored hashed. A family is one login; reuse of a used token revokes the family.
CREATE TABLE identity.refresh_tokens (
    id uuid PRIMARY KEY,
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES identity.users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family ON identity.refresh_tokens (family_id);
