-- The reporting views again, exact for every value a row can hold: counts up
-- to Int64's maximum made `bigint out of range`. Replaces 20261129000200's views
-- with the same columns and types: the arithmetic is numeric, `total` is NULL
-- when it does not fit an Int64 (the SQLite views say the same), shares are
-- basis points rounded half up, as before.

DROP VIEW teams_device_usage_latest;
DROP VIEW teams_device_usage_shares;

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
    CASE WHEN total_exact <= 9223372036854775807 THEN total_exact::bigint END AS total,
    CASE WHEN total_exact > 0 THEN div(20000 * web::numeric + total_exact, 2 * total_exact)::bigint END AS web_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * windows_phone::numeric + total_exact, 2 * total_exact)::bigint END AS windows_phone_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * android_phone::numeric + total_exact, 2 * total_exact)::bigint END AS android_phone_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * ios::numeric + total_exact, 2 * total_exact)::bigint END AS ios_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * mac::numeric + total_exact, 2 * total_exact)::bigint END AS mac_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * windows::numeric + total_exact, 2 * total_exact)::bigint END AS windows_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * chrome_os::numeric + total_exact, 2 * total_exact)::bigint END AS chrome_os_share_bp,
    CASE WHEN total_exact > 0 THEN div(20000 * linux::numeric + total_exact, 2 * total_exact)::bigint END AS linux_share_bp
FROM (
    SELECT
        r.*,
        COALESCE(web, 0)::numeric + COALESCE(windows_phone, 0)::numeric + COALESCE(android_phone, 0)::numeric + COALESCE(ios, 0)::numeric + COALESCE(mac, 0)::numeric + COALESCE(windows, 0)::numeric + COALESCE(chrome_os, 0)::numeric + COALESCE(linux, 0)::numeric AS total_exact
    FROM teams_device_usage_distribution_user_counts AS r
) AS with_total;

-- The latest row of each tenant and period, as before.
CREATE VIEW teams_device_usage_latest AS
SELECT s.*
FROM teams_device_usage_shares AS s
WHERE s.report_refresh_date = (
    SELECT MAX(l.report_refresh_date)
    FROM teams_device_usage_distribution_user_counts AS l
    WHERE l.tenant_id = s.tenant_id AND l.report_period = s.report_period
);
