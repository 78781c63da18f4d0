-- Migration 17: command-not-found data (`<component>/cnf/Commands-<arch>`)
-- of mirrored packages.
--
-- A sync whose upstream Release lists Commands files keeps, for each
-- package it selects, that package's stanza (`name`, `version`,
-- `commands`…) as upstream wrote it. Rows are keyed by the .deb's SHA256,
-- so they are stored once and shared by every revision and snapshot
-- holding that package; the first copy seen stays. `gc` deletes rows no
-- package row names.
CREATE TABLE cnf_commands (
    package_sha256  TEXT PRIMARY KEY,   -- the .deb's SHA256 (packages.sha256)
    stanza          TEXT NOT NULL       -- its stanza, ending in a line break
) WITHOUT ROWID;
