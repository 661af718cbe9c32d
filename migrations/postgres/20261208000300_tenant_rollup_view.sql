-- The device mix summed over every tenant, per refresh date and period: the
-- numbers GET {base}/tenants/rollup answers, one SELECT away (docs/sql.md).
-- A sum that would overflow an Int64 is an error, as in the API.
CREATE VIEW teams_device_usage_rollup AS
SELECT
    report_refresh_date,
    report_period,
    COUNT(*) AS tenant_count,
    CAST(SUM(web) AS BIGINT) AS web,
    CAST(SUM(windows_phone) AS BIGINT) AS windows_phone,
    CAST(SUM(android_phone) AS BIGINT) AS android_phone,
    CAST(SUM(ios) AS BIGINT) AS ios,
    CAST(SUM(mac) AS BIGINT) AS mac,
    CAST(SUM(windows) AS BIGINT) AS windows,
    CAST(SUM(chrome_os) AS BIGINT) AS chrome_os,
    CAST(SUM(linux) AS BIGINT) AS linux
FROM teams_device_usage_distribution_user_counts
GROUP BY report_refresh_date, report_period;
