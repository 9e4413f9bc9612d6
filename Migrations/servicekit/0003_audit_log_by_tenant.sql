-- The admin console reads a tenant's audit log newest first, page by page (`GET /v1/<service>/audit`): rows of one
-- tenant (or the platform's own, with no tenant) in id order. The index on (tenant_id, created_at) serves neither the
-- order by id nor the cursor on it, so each page would sort every row of the tenant.
CREATE INDEX audit_log_tenant_id ON audit_log (tenant_id, id);
