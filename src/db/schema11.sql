-- Migration 11: local repositories, package sets changed by hand.
--
-- A repo is a mutable, named package set: `repo add`, `remove`, `copy` and
-- `move` store a new set (shared by content, like a revision's) and point
-- the row at it. Its packages are ordinary `packages` rows with blobs, so
-- snapshots, publish, gc and verify treat them as mirrored ones. `revision`
-- counts the changes; a change names the revision it was planned against,
-- so a change planned on a stale view is refused, not lost.
CREATE TABLE repos (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    spec            TEXT NOT NULL,              -- JSON RepoSpec: component, comment, architectures
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 0,
    package_set_id  INTEGER NOT NULL REFERENCES package_sets(id)
);
