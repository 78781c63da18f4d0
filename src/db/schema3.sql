-- Migration 3: curation — an append-only audit trail, staging for review-mode
-- mirrors, and operator freezes.

-- Who did what, when and why. Rows are only ever inserted: the triggers make
-- an UPDATE or DELETE fail, so the trail cannot be rewritten through SQL.
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,              -- user@host, or DEBVAULT_ACTOR
    action   TEXT NOT NULL,              -- freeze, unfreeze, promote, reject, publish, …
    subject  TEXT NOT NULL,              -- mirror `m` package `p`, publication `./stable`, …
    reason   TEXT,
    detail   TEXT NOT NULL               -- JSON object
);
CREATE INDEX audit_at ON audit(at);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- `content`: sync saw new bytes under the same version; `manual`: `debvault freeze`.
ALTER TABLE freezes ADD COLUMN kind TEXT NOT NULL DEFAULT 'content';
-- Set when a content freeze is lifted with --accept-new: the upstream SHA256 the next sync may take.
ALTER TABLE freezes ADD COLUMN accepted_sha256 TEXT;

-- Changes a review-mode sync found, waiting for `promote` or `reject`.
-- `add`: a package upstream lists that is not live; `remove`: a live package
-- upstream no longer lists. A rejected row stays as the decision, so the next
-- sync does not stage the same change again.
CREATE TABLE staged (
    id            INTEGER PRIMARY KEY,
    mirror_id     INTEGER NOT NULL REFERENCES mirrors(id) ON DELETE CASCADE,
    action        TEXT NOT NULL,         -- add | remove
    component     TEXT NOT NULL,
    package_id    INTEGER REFERENCES packages(id),   -- NULL once rejected
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    arch          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    release_date  TEXT,                  -- upstream Release Date of the sync that staged it
    staged_at     TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'staged',    -- staged | rejected
    decided_at    TEXT,
    UNIQUE (mirror_id, action, name, version, arch, sha256)
);
CREATE INDEX staged_mirror ON staged(mirror_id, status);
