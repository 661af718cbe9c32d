-- Two indexes fewer per stored row. The primary key becomes (tenant_id, id): it
-- serves keyset paging within a tenant in creation order (ids are UUIDv7), so
-- the index teams_device_usage_tenant_id goes. The natural key is reordered to
-- (tenant_id, report_period, report_refresh_date): it serves the
-- latest-row-per-period and period + date-range reads, so the index
-- teams_device_usage_tenant_period_date goes. A stored row now goes into two
-- indexes, both keyed by tenant, where it went into four (the id key and three
-- keyed by tenant). The SQLite migration of the same name makes the same keys;
-- there the table is also rebuilt, clustered by tenant, which a Postgres heap
-- has no use for. The views do not depend on these constraints and stay.

ALTER TABLE teams_device_usage_distribution_user_counts
    DROP CONSTRAINT teams_device_usage_distribution_user_counts_pkey;
ALTER TABLE teams_device_usage_distribution_user_counts
    ADD PRIMARY KEY (tenant_id, id);

DROP INDEX teams_device_usage_tenant_id;
DROP INDEX teams_device_usage_tenant_period_date;

-- Same name: the service recognises unique violations by it.
ALTER TABLE teams_device_usage_distribution_user_counts
    DROP CONSTRAINT teams_device_usage_natural_key;
ALTER TABLE teams_device_usage_distribution_user_counts
    ADD CONSTRAINT teams_device_usage_natural_key
        UNIQUE (tenant_id, report_period, report_refresh_date);
