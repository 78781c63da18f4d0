-- Migration 15: bearer tokens of the HTTP API (`token create`).
--
-- Only the SHA256 of a token is kept: the secret is shown once and cannot
-- be read back. A token carries scopes (`upload`, `publish`, `admin`) and,
-- optionally, the repos it is limited to. Revoking deletes the row; the
-- audit trail keeps who created and revoked it.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    sha256      TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,      -- `upload,publish`
    repos       TEXT NOT NULL,      -- JSON array of repo names; empty: all
    created_at  TEXT NOT NULL
);
