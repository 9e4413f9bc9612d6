-- Every service keeps a tenant's standing for a few seconds; a change to a tenant (suspended, reactivated, a new
-- plan) is announced on `sokoni_tenants` when it commits, and each service forgets its copy then: a suspension is
-- refused everywhere within a second, not after the cache's lifetime. A trigger, so a change made any way (the
-- admin API, a script) is announced.
CREATE FUNCTION identity.announce_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sokoni_tenants', NEW.id::text);
    RETURN NULL;
END;
$$;
CREATE TRIGGER tenants_announce_change AFTER UPDATE ON identity.tenants
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION identity.announce_tenant_change();
