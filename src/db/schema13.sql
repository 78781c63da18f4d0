-- Migration 13: security advisories imported offline (`advisories import`),
-- from the Debian security tracker's JSON or OSV records.
--
-- One row per (advisory, source package, release); `release` is a codename
-- (`bookworm`) or '' when the record names none (OSV). `fixed` is the first
-- fixed version in dpkg order, NULL when no fix exists yet. A later import
-- replaces the rows it carries; each row says which import it came from.
CREATE TABLE advisory_imports (
    id           INTEGER PRIMARY KEY,
    source       TEXT NOT NULL,
    format       TEXT NOT NULL,
    imported_at  TEXT NOT NULL,
    records      INTEGER NOT NULL
);
CREATE TABLE advisories (
    id         TEXT NOT NULL,
    package    TEXT NOT NULL,
    release    TEXT NOT NULL,
    fixed      TEXT,
    urgency    TEXT,
    modified   TEXT,
    import_id  INTEGER NOT NULL REFERENCES advisory_imports(id),
    PRIMARY KEY (package, release, id)
) WITHOUT ROWID;
