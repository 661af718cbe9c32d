-- The primary key becomes (tenant_id, id), in place of the id alone, as the
-- SQLite migration of the same name makes that key there: a tenant's rows in
-- creation order (the collection's default order; ids are UUIDv7) are then a
-- range of this key, so every page of that order, and every step of a CSV
-- export, reads only the rows it returns. With the id alone, a tenant's rows
-- in id order were the whole tenant read through the natural key and sorted,
-- for every page: a cost that grew with the tenant's history.
--
-- Still two keys, so a stored row is still written into two indexes: this one
-- and the natural key. A row by id is one probe of it: every read, update and
-- delete by id names the tenant.
--
-- Ids were unique across tenants (20261129000400); they are now unique per
-- tenant, as before that migration. Every id the service makes is a fresh
-- UUIDv7, and nothing reads a row by id without its tenant.

ALTER TABLE teams_device_usage_distribution_user_counts
    DROP CONSTRAINT teams_device_usage_distribution_user_counts_pkey,
    ADD CONSTRAINT teams_device_usage_distribution_user_counts_pkey PRIMARY KEY (tenant_id, id);
