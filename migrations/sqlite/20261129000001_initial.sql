-- Report rows. Dates are YYYY-MM-DD text, timestamps UTC text with microseconds
-- (2026-11-29T06:22:45.123456Z), ids hyphenated UUID text.
CREATE TABLE teams_device_usage_distribution_user_counts (
    id                  TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
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
    CONSTRAINT teams_device_usage_natural_key UNIQUE (tenant_id, report_refresh_date, report_period)
) STRICT;

-- Keyset paging in creation order within a tenant.
CREATE INDEX teams_device_usage_tenant_id ON teams_device_usage_distribution_user_counts (tenant_id, id);
-- The report function and period/date filters: latest row per period.
CREATE INDEX teams_device_usage_tenant_period_date
    ON teams_device_usage_distribution_user_counts (tenant_id, report_period, report_refresh_date);

-- Bearer tokens, stored only as SHA-256 hashes of the secret.
CREATE TABLE api_tokens (
    id          TEXT NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    tenant_id   TEXT NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 64),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
) STRICT;

-- Things that happen once in a database's life (the bootstrap token).
CREATE TABLE service_events (
    name        TEXT NOT NULL PRIMARY KEY,
    happened_at TEXT NOT NULL
) STRICT;
