-- The names people know tenants by (`token create --tenant-name`, `tenant rename`),
-- shown in the operator's tenants list beside the tenant id.
CREATE TABLE tenant_names (
    tenant_id    TEXT NOT NULL PRIMARY KEY CHECK (length(tenant_id) BETWEEN 1 AND 64),
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200)
) STRICT;
