-- Reporting views: the common reports one SELECT away. The SQLite migration of
-- the same name defines the same views with the same columns, and each column
-- holds the same value on both backends (integer arithmetic only).

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
