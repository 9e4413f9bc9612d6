-- Emails were unique across the whole platform, so a tenant admin adding a person with an address another tenant
-- (or platform staff) already used got 409 email_taken: the answer told one tenant who was registered at another.
-- Now an email is unique within a tenant, and among staff (no tenant) on their own. The same person may hold an
-- account in two tenants; login finds the account by email and password together, and asks for the tenant only
-- when both accounts open with the same password.
DROP INDEX identity.users_email;
CREATE UNIQUE INDEX users_email ON identity.users (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(email));
-- login looks an email up across tenants; the unique index above leads with the tenant and cannot serve it
CREATE INDEX users_by_email ON identity.users (lower(email));
