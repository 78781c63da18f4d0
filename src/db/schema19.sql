-- Migration 19: freezes and staged changes of local repositories.
--
-- `repo_freezes`: operator freezes of a repo's packages (`freeze REPO PKG`).
-- While one is active (`lifted_at` NULL), no command adds another version
-- of that name and architecture to the repo, replaces its bytes, or takes
-- it out. Lifted rows stay as the record.
CREATE TABLE repo_freezes (
    id              INTEGER PRIMARY KEY,
    repo_id         INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    version         TEXT NOT NULL,
    arch            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    lifted_at       TEXT,
    lifted_reason   TEXT
);
CREATE INDEX repo_freezes_active ON repo_freezes(repo_id, lifted_at);

-- `repo_staged`: changes to a repo in review mode (`repo create --review`),
-- waiting for `promote` or `reject`, as `staged` holds a mirror's. An
-- addition's package row exists (its blob is kept by `gc`) but is in no
-- repo set until promoted; a removal names the live package it takes out.
-- A rejected row stays as the decision, without its package.
CREATE TABLE repo_staged (
    id            INTEGER PRIMARY KEY,
    repo_id       INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    action        TEXT NOT NULL,         -- add | remove
    component     TEXT NOT NULL,
    package_id    INTEGER REFERENCES packages(id),   -- NULL once rejected
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    arch          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    staged_at     TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'staged',    -- staged | rejected
    decided_at    TEXT,
    origin        TEXT NOT NULL          -- `repo-add`, `repo-include`, `repo-copy`, `repo-move`, `repo-remove`
);
CREATE INDEX repo_staged_repo ON repo_staged(repo_id, status);
