-- What a token reaches: its own tenant ('tenant'), or every tenant for reading
-- ('allTenants', an operator's token, which names the tenant on each request).
ALTER TABLE api_tokens ADD COLUMN reach TEXT NOT NULL DEFAULT 'tenant'
    CHECK (reach IN ('tenant', 'allTenants'));
