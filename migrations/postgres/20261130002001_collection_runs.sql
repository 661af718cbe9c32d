-- The Graph collector's record: one row per source and period of each run
-- (docs/collect.md), and the lease that lets one replica collect per interval.
CREATE TABLE collection_runs (
    id             UUID        NOT NULL PRIMARY KEY,
    source         TEXT        NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    target_tenant  TEXT        NOT NULL CHECK (length(target_tenant) BETWEEN 1 AND 64),
    report_period  INTEGER     NOT NULL CHECK (report_period IN (7, 30, 90, 180)),
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ NOT NULL,
    created        BIGINT      NOT NULL CHECK (created >= 0),
    already_stored BIGINT      NOT NULL CHECK (already_stored >= 0),
    conflicting    BIGINT      NOT NULL CHECK (conflicting >= 0),
    -- NULL when the run succeeded.
    error          TEXT
);

CREATE INDEX collection_runs_by_source ON collection_runs (source, report_period, started_at);
CREATE INDEX collection_runs_by_tenant ON collection_runs (target_tenant, started_at);

-- Held by one replica until expires_at; an expired lease may be taken by any.
CREATE TABLE collection_leases (
    name       TEXT        NOT NULL PRIMARY KEY,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
