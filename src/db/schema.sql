-- Migration 1: mirrors, packages stored once, shared package sets, revisions, freezes.
CREATE TABLE mirrors (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    spec            TEXT NOT NULL,              -- JSON MirrorSpec
    created_at      TEXT NOT NULL,
    release_date    TEXT,
    release_sha256  TEXT,
    etag            TEXT,
    last_modified   TEXT,
    last_sync_at    TEXT,
    last_error      TEXT,
    revision_id     INTEGER REFERENCES mirror_revisions(id)
);

CREATE TABLE packages (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    version   TEXT NOT NULL,
    arch      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    size      INTEGER NOT NULL,
    filename  TEXT NOT NULL,
    source    TEXT NOT NULL,
    stanza    TEXT NOT NULL,
    UNIQUE (name, version, arch, sha256)
);

CREATE TABLE package_sets (
    id      INTEGER PRIMARY KEY,
    digest  TEXT NOT NULL UNIQUE,
    count   INTEGER NOT NULL,
    data    BLOB NOT NULL
);

CREATE TABLE mirror_revisions (
    id              INTEGER PRIMARY KEY,
    mirror_id       INTEGER NOT NULL REFERENCES mirrors(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    release_date    TEXT,
    release_sha256  TEXT,
    package_set_id  INTEGER NOT NULL REFERENCES package_sets(id),
    stats           TEXT NOT NULL              -- JSON: counts, bytes, index digests
);
CREATE INDEX mirror_revisions_mirror ON mirror_revisions(mirror_id, id);

CREATE TABLE freezes (
    id               INTEGER PRIMARY KEY,
    mirror_id        INTEGER NOT NULL REFERENCES mirrors(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    version          TEXT NOT NULL,
    arch             TEXT NOT NULL,
    kept_sha256      TEXT NOT NULL,
    upstream_sha256  TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    lifted_at        TEXT,
    lifted_reason    TEXT
);
CREATE INDEX freezes_active ON freezes(mirror_id, lifted_at);
