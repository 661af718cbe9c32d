-- The natural key becomes the primary key: the table is clustered by
-- (tenant_id, report_period, report_refresh_date), and the id is a UNIQUE
-- index of its own. Ids are UUIDv7, so new ids sort after the ones stored
-- before and that index grows at its end. A stored row now lands at a random
-- place in one B-tree (the table) instead of two (the table keyed by
-- (tenant_id, id) and the natural key): a group commit of rows over many
-- tenants writes fewer pages per stored row (docs/benchmarks.md).
-- Reads keep their keys: a tenant's rows by period and date are the table
-- itself, in order; a row by id is one probe of the id index.
--
-- Ids were unique per tenant (the old primary key); they are now unique
-- across tenants, which every id the service ever made already is (UUIDv7).
--
-- As in 20261129000300_cluster_rows_by_tenant.sql, SQLite's 12-step procedure
-- for schema changes (https://www.sqlite.org/lang_altertable.html#otheralter),
-- in the migrator's one transaction.

-- The views name the table: dropped first, recreated below exactly as the
-- migration 20261129000200_reporting_views.sql defines them.
DROP VIEW teams_device_usage_latest;
DROP VIEW teams_device_usage_shares;

-- Same columns and CHECK constraints as 20261129000001_initial.sql.
CREATE TABLE teams_device_usage_distribution_user_counts_new (
    id                  TEXT    NOT NULL CHECK (length(id) = 36),
    tenant_id           TEXT    NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 64),
    report_refresh_date TEXT    NOT NULL CHECK (date(report_refresh_date) IS report_refresh_date),
    web                 INTEGER NOT NULL CHECK (web >= 0),
    windows_phone       INTEGER NOT NULL CHECK (windows_phone >= 0),
    android_phone       INTEGER NOT NULL CHECK (android_phone >= 0),
    ios                 INTEGER NOT NULL CHECK (ios >= 0),
    mac                 INTEGER NOT NULL CHECK (mac >= 0),
    windows             INTEGER NOT NULL CHECK (windows >= 0),
    chrome_os           INTEGER          CHECK (chrome_os >= 0),
    linux               INTEGER          CHECK (linux >= 0),
    report_period       INTEGER NOT NULL CHECK (report_period IN (7, 30, 90, 180)),
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    CONSTRAINT teams_device_usage_natural_key
        PRIMARY KEY (tenant_id, report_period, report_refresh_date),
    CONSTRAINT teams_device_usage_id UNIQUE (id)
) STRICT, WITHOUT ROWID;

-- In primary key order, so the new B-tree is built by appending.
INSERT INTO teams_device_usage_distribution_user_counts_new (
    id, tenant_id, report_refresh_date, web, windows_phone, android_phone,
    ios, mac, windows, chrome_os, linux, report_period, created_at, updated_at
)
SELECT
    id, tenant_id, report_refresh_date, web, windows_phone, android_phone,
    ios, mac, windows, chrome_os, linux, report_period, created_at, updated_at
FROM teams_device_usage_distribution_user_counts
ORDER BY tenant_id, report_period, report_refresh_date;

-- Takes its indexes (and their planner statistics) with it.
DROP TABLE teams_device_usage_distribution_user_counts;

ALTER TABLE teams_device_usage_distribution_user_counts_new
    RENAME TO teams_device_usage_distribution_user_counts;

-- The views, exactly as 20261129000200_reporting_views.sql defines them.

-- Every row with its total (the platform counts summed, a null count as 0) and
-- each platform's share of that total in basis points (1/100 of a percent, so
-- 2500 = 25.00 %), rounded half up with integer arithmetic. A share is NULL when
-- its count is NULL or the total is 0. Exact for totals below 4.6e14.
CREATE VIEW teams_device_usage_shares AS
SELECT
    id,
    tenant_id,
    report_refresh_date,
    report_period,
    web,
    windows_phone,
    android_phone,
    ios,
    mac,
    windows,
    chrome_os,
    linux,
    total,
    CASE WHEN total > 0 THEN (20000 * web           + total) / (2 * total) END AS web_share_bp,
    CASE WHEN total > 0 THEN (20000 * windows_phone + total) / (2 * total) END AS windows_phone_share_bp,
    CASE WHEN total > 0 THEN (20000 * android_phone + total) / (2 * total) END AS android_phone_share_bp,
    CASE WHEN total > 0 THEN (20000 * ios           + total) / (2 * total) END AS ios_share_bp,
    CASE WHEN total > 0 THEN (20000 * mac           + total) / (2 * total) END AS mac_share_bp,
    CASE WHEN total > 0 THEN (20000 * windows       + total) / (2 * total) END AS windows_share_bp,
    CASE WHEN total > 0 THEN (20000 * chrome_os     + total) / (2 * total) END AS chrome_os_share_bp,
    CASE WHEN total > 0 THEN (20000 * linux         + total) / (2 * total) END AS linux_share_bp
FROM (
    SELECT
        r.*,
        web + windows_phone + android_phone + ios + mac + windows
            + COALESCE(chrome_os, 0) + COALESCE(linux, 0) AS total
    FROM teams_device_usage_distribution_user_counts AS r
) AS with_total;

-- The latest row of each tenant and period (the one the report function
-- serves), with its total and shares. The natural key makes it one row each.
CREATE VIEW teams_device_usage_latest AS
SELECT s.*
FROM teams_device_usage_shares AS s
WHERE s.report_refresh_date = (
    SELECT MAX(l.report_refresh_date)
    FROM teams_device_usage_distribution_user_counts AS l
    WHERE l.tenant_id = s.tenant_id AND l.report_period = s.report_period
);
