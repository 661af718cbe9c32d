-- Report rows; ids and timestamps are made by the service, so SQLite and
-- Postgres hold identical values.
CREATE TABLE teams_device_usage_distribution_user_counts (
    id                  UUID        NOT NULL PRIMARY KEY,
    tenant_id           TEXT        NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 64),
    report_refresh_date DATE        NOT NULL,
    web                 BIGINT      NOT NULL CHECK (web >= 0),
    windows_phone       BIGINT      NOT NULL CHECK (windows_phone >= 0),
    android_phone       BIGINT      NOT NULL CHECK (android_phone >= 0),
    ios                 BIGINT      NOT NULL CHECK (ios >= 0),
    mac                 BIGINT      NOT NULL CHECK (mac >= 0),
    windows             BIGINT      NOT NULL CHECK (windows >= 0),
    chrome_os           BIGINT               CHECK (chrome_os >= 0),
    linux               BIGINT               CHECK (linux >= 0),
    report_period       INTEGER     NOT NULL CHECK (report_period IN (7, 30, 90, 180)),
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT teams_device_usage_natural_key UNIQUE (tenant_id, report_refresh_date, report_period)
);

-- Keyset paging in creation order within a tenant.
CREATE INDEX teams_device_usage_tenant_id ON teams_device_usage_distribution_user_counts (tenant_id, id);
-- The report function and period/date filters: latest row per period.
CREATE INDEX teams_device_usage_tenant_period_date
    ON teams_device_usage_distribution_user_counts (tenant_id, report_period, report_refresh_date);

-- Bearer tokens, stored only as SHA-256 hashes of the secret.
CREATE TABLE api_tokens (
    id          UUID        NOT NULL PRIMARY KEY,
    tenant_id   TEXT        NOT NULL CHECK (length(tenant_id) BETWEEN 1 AND 64),
    name        TEXT        NOT NULL,
    scopes      TEXT        NOT NULL,
    token_hash  TEXT        NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);

-- Things that happen once in a database's life (the bootstrap token).
CREATE TABLE service_events (
    name        TEXT        NOT NULL PRIMARY KEY,
    happened_at TIMESTAMPTZ NOT NULL
);
