-- The id's key becomes (tenant_id, id), in place of the id alone: a tenant's
-- rows in creation order (the collection's default order; ids are UUIDv7) are
-- then a range of this key, so every page of that order, and every step of a
-- CSV export, reads only the rows it returns. With the id alone, a tenant's
-- rows in id order were the whole tenant read through the natural key and
-- sorted, for every page: a cost that grew with the tenant's history.
--
-- Still two keys, so a stored row is still written into two B-trees: the table
-- (clustered by the natural key, unchanged) and this key. A row by id is one
-- probe of it: every read, update and delete by id names the tenant.
--
-- Ids were unique across tenants (20261129000400); they are now unique per
-- tenant, as before that migration. Every id the service makes is a fresh
-- UUIDv7, and nothing reads a row by id without its tenant.
--
-- SQLite cannot drop a UNIQUE constraint in place: as in
-- 20261129000400_natural_key_as_primary_key.sql, its 12-step procedure
-- (https://www.sqlite.org/lang_altertable.html#otheralter), in the migrator's
-- one transaction.

-- The views name the table: dropped first, recreated below exactly as
-- 20261130001000_exact_reporting_views.sql defines them.
DROP VIEW teams_device_usage_latest;
DROP VIEW teams_device_usage_shares;

-- Same columns and CHECK constraints as 20261129000001_initial.sql; the same
-- primary key as 20261129000400, without the UNIQUE (id).
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
        PRIMARY KEY (tenant_id, report_period, report_refresh_date)
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

-- Built after the copy, in one pass. Named, so query plans say which key they read.
CREATE UNIQUE INDEX teams_device_usage_tenant_id
    ON teams_device_usage_distribution_user_counts (tenant_id, id);

-- The views, exactly as 20261130001000_exact_reporting_views.sql defines them.

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
    CASE WHEN total_hi < 4294967296 THEN total_hi * 2147483648 + total_lo END AS total,
    CASE WHEN web IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_web + ((((web >> 31) * 20000 + (((web & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_web + 1) + ((total_lo * (2 * k_web + 1)) >> 31)) OR (((web >> 31) * 20000 + (((web & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_web + 1) + ((total_lo * (2 * k_web + 1)) >> 31)) AND (((web & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_web + 1)) & 2147483647)))) - ((k_web > 0 AND NOT (((web >> 31) * 20000 + (((web & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_web - 1) + ((total_lo * (2 * k_web - 1)) >> 31)) OR (((web >> 31) * 20000 + (((web & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_web - 1) + ((total_lo * (2 * k_web - 1)) >> 31)) AND (((web & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_web - 1)) & 2147483647))))) END AS web_share_bp,
    CASE WHEN windows_phone IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_windows_phone + ((((windows_phone >> 31) * 20000 + (((windows_phone & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_windows_phone + 1) + ((total_lo * (2 * k_windows_phone + 1)) >> 31)) OR (((windows_phone >> 31) * 20000 + (((windows_phone & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_windows_phone + 1) + ((total_lo * (2 * k_windows_phone + 1)) >> 31)) AND (((windows_phone & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_windows_phone + 1)) & 2147483647)))) - ((k_windows_phone > 0 AND NOT (((windows_phone >> 31) * 20000 + (((windows_phone & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_windows_phone - 1) + ((total_lo * (2 * k_windows_phone - 1)) >> 31)) OR (((windows_phone >> 31) * 20000 + (((windows_phone & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_windows_phone - 1) + ((total_lo * (2 * k_windows_phone - 1)) >> 31)) AND (((windows_phone & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_windows_phone - 1)) & 2147483647))))) END AS windows_phone_share_bp,
    CASE WHEN android_phone IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_android_phone + ((((android_phone >> 31) * 20000 + (((android_phone & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_android_phone + 1) + ((total_lo * (2 * k_android_phone + 1)) >> 31)) OR (((android_phone >> 31) * 20000 + (((android_phone & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_android_phone + 1) + ((total_lo * (2 * k_android_phone + 1)) >> 31)) AND (((android_phone & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_android_phone + 1)) & 2147483647)))) - ((k_android_phone > 0 AND NOT (((android_phone >> 31) * 20000 + (((android_phone & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_android_phone - 1) + ((total_lo * (2 * k_android_phone - 1)) >> 31)) OR (((android_phone >> 31) * 20000 + (((android_phone & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_android_phone - 1) + ((total_lo * (2 * k_android_phone - 1)) >> 31)) AND (((android_phone & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_android_phone - 1)) & 2147483647))))) END AS android_phone_share_bp,
    CASE WHEN ios IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_ios + ((((ios >> 31) * 20000 + (((ios & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_ios + 1) + ((total_lo * (2 * k_ios + 1)) >> 31)) OR (((ios >> 31) * 20000 + (((ios & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_ios + 1) + ((total_lo * (2 * k_ios + 1)) >> 31)) AND (((ios & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_ios + 1)) & 2147483647)))) - ((k_ios > 0 AND NOT (((ios >> 31) * 20000 + (((ios & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_ios - 1) + ((total_lo * (2 * k_ios - 1)) >> 31)) OR (((ios >> 31) * 20000 + (((ios & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_ios - 1) + ((total_lo * (2 * k_ios - 1)) >> 31)) AND (((ios & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_ios - 1)) & 2147483647))))) END AS ios_share_bp,
    CASE WHEN mac IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_mac + ((((mac >> 31) * 20000 + (((mac & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_mac + 1) + ((total_lo * (2 * k_mac + 1)) >> 31)) OR (((mac >> 31) * 20000 + (((mac & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_mac + 1) + ((total_lo * (2 * k_mac + 1)) >> 31)) AND (((mac & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_mac + 1)) & 2147483647)))) - ((k_mac > 0 AND NOT (((mac >> 31) * 20000 + (((mac & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_mac - 1) + ((total_lo * (2 * k_mac - 1)) >> 31)) OR (((mac >> 31) * 20000 + (((mac & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_mac - 1) + ((total_lo * (2 * k_mac - 1)) >> 31)) AND (((mac & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_mac - 1)) & 2147483647))))) END AS mac_share_bp,
    CASE WHEN windows IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_windows + ((((windows >> 31) * 20000 + (((windows & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_windows + 1) + ((total_lo * (2 * k_windows + 1)) >> 31)) OR (((windows >> 31) * 20000 + (((windows & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_windows + 1) + ((total_lo * (2 * k_windows + 1)) >> 31)) AND (((windows & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_windows + 1)) & 2147483647)))) - ((k_windows > 0 AND NOT (((windows >> 31) * 20000 + (((windows & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_windows - 1) + ((total_lo * (2 * k_windows - 1)) >> 31)) OR (((windows >> 31) * 20000 + (((windows & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_windows - 1) + ((total_lo * (2 * k_windows - 1)) >> 31)) AND (((windows & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_windows - 1)) & 2147483647))))) END AS windows_share_bp,
    CASE WHEN chrome_os IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_chrome_os + ((((chrome_os >> 31) * 20000 + (((chrome_os & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_chrome_os + 1) + ((total_lo * (2 * k_chrome_os + 1)) >> 31)) OR (((chrome_os >> 31) * 20000 + (((chrome_os & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_chrome_os + 1) + ((total_lo * (2 * k_chrome_os + 1)) >> 31)) AND (((chrome_os & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_chrome_os + 1)) & 2147483647)))) - ((k_chrome_os > 0 AND NOT (((chrome_os >> 31) * 20000 + (((chrome_os & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_chrome_os - 1) + ((total_lo * (2 * k_chrome_os - 1)) >> 31)) OR (((chrome_os >> 31) * 20000 + (((chrome_os & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_chrome_os - 1) + ((total_lo * (2 * k_chrome_os - 1)) >> 31)) AND (((chrome_os & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_chrome_os - 1)) & 2147483647))))) END AS chrome_os_share_bp,
    CASE WHEN linux IS NULL OR (total_hi = 0 AND total_lo = 0) THEN NULL
         ELSE k_linux + ((((linux >> 31) * 20000 + (((linux & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_linux + 1) + ((total_lo * (2 * k_linux + 1)) >> 31)) OR (((linux >> 31) * 20000 + (((linux & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_linux + 1) + ((total_lo * (2 * k_linux + 1)) >> 31)) AND (((linux & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_linux + 1)) & 2147483647)))) - ((k_linux > 0 AND NOT (((linux >> 31) * 20000 + (((linux & 2147483647) * 20000) >> 31)) > (total_hi * (2 * k_linux - 1) + ((total_lo * (2 * k_linux - 1)) >> 31)) OR (((linux >> 31) * 20000 + (((linux & 2147483647) * 20000) >> 31)) = (total_hi * (2 * k_linux - 1) + ((total_lo * (2 * k_linux - 1)) >> 31)) AND (((linux & 2147483647) * 20000) & 2147483647) >= ((total_lo * (2 * k_linux - 1)) & 2147483647))))) END AS linux_share_bp
FROM (
    SELECT
        limbs.*,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(web, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_web,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(windows_phone, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_windows_phone,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(android_phone, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_android_phone,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(ios, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_ios,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(mac, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_mac,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(windows, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_windows,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(chrome_os, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_chrome_os,
        CASE WHEN total_hi = 0 AND total_lo = 0 THEN 0 ELSE CAST(10000.0 * COALESCE(linux, 0) / (total_hi * 2147483648.0 + total_lo) + 0.5 AS INTEGER) END AS k_linux
    FROM (
        SELECT
            normalized.*
        FROM (
            SELECT
                r.*,
                ((COALESCE(web, 0) >> 31) + (COALESCE(windows_phone, 0) >> 31) + (COALESCE(android_phone, 0) >> 31) + (COALESCE(ios, 0) >> 31) + (COALESCE(mac, 0) >> 31) + (COALESCE(windows, 0) >> 31) + (COALESCE(chrome_os, 0) >> 31) + (COALESCE(linux, 0) >> 31)) + (((COALESCE(web, 0) & 2147483647) + (COALESCE(windows_phone, 0) & 2147483647) + (COALESCE(android_phone, 0) & 2147483647) + (COALESCE(ios, 0) & 2147483647) + (COALESCE(mac, 0) & 2147483647) + (COALESCE(windows, 0) & 2147483647) + (COALESCE(chrome_os, 0) & 2147483647) + (COALESCE(linux, 0) & 2147483647)) >> 31) AS total_hi,
                ((COALESCE(web, 0) & 2147483647) + (COALESCE(windows_phone, 0) & 2147483647) + (COALESCE(android_phone, 0) & 2147483647) + (COALESCE(ios, 0) & 2147483647) + (COALESCE(mac, 0) & 2147483647) + (COALESCE(windows, 0) & 2147483647) + (COALESCE(chrome_os, 0) & 2147483647) + (COALESCE(linux, 0) & 2147483647)) & 2147483647 AS total_lo
            FROM teams_device_usage_distribution_user_counts AS r
        ) AS normalized
    ) AS limbs
) AS with_candidates;

-- The latest row of each tenant and period, as before.
CREATE VIEW teams_device_usage_latest AS
SELECT s.*
FROM teams_device_usage_shares AS s
WHERE s.report_refresh_date = (
    SELECT MAX(l.report_refresh_date)
    FROM teams_device_usage_distribution_user_counts AS l
    WHERE l.tenant_id = s.tenant_id AND l.report_period = s.report_period
);
