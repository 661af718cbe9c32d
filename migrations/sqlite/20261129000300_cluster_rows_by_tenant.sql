-- Rows clustered by tenant: the table becomes a WITHOUT ROWID table whose
-- primary key is (tenant_id, id), so a tenant's rows sit together in creation
-- order (ids are UUIDv7) and keyset paging reads the table itself. The natural
-- key is reordered to (tenant_id, report_period, report_refresh_date), which
-- serves the latest-row-per-period and period + date-range reads, so the
-- indexes teams_device_usage_tenant_id and teams_device_usage_tenant_period_date
-- are gone. A stored row now goes into two B-trees, both keyed by tenant
-- (the table and the natural key), where it went into five (the rowid table,
-- the id index and three indexes keyed by tenant): one random page fewer per
-- stored row.
--
-- SQLite cannot change a primary key in place: this follows its 12-step
-- procedure for "other kinds of table schema changes"
-- (https://www.sqlite.org/lang_altertable.html#otheralter). The migrator runs
-- this file in one transaction. Foreign keys cannot be switched off inside a
-- transaction, and none refer to this table, so steps 1, 10 and 12 have nothing
-- to do. The table has no triggers; its indexes are replaced as said above.

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
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT teams_device_usage_natural_key UNIQUE (tenant_id, report_period, report_refresh_date)
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
ORDER BY tenant_id, id;

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
