-- Migration 2: snapshots (immutable, named package sets) and publications.
CREATE TABLE snapshots (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    description     TEXT NOT NULL,
    origin          TEXT NOT NULL,              -- JSON SnapshotOrigin: where the packages came from
    architectures   TEXT NOT NULL,              -- JSON list: the indices a publication writes
    package_set_id  INTEGER NOT NULL REFERENCES package_sets(id)
);

CREATE TABLE publications (
    id              INTEGER PRIMARY KEY,
    prefix          TEXT NOT NULL,              -- "." for the endpoint's root
    distribution    TEXT NOT NULL,
    snapshot_id     INTEGER NOT NULL REFERENCES snapshots(id),
    options         TEXT NOT NULL,              -- JSON PublishOptions as rendered
    tree            TEXT NOT NULL,              -- tree id (UTC time, %Y%m%dT%H%M%SZ[-N])
    release_sha256  TEXT NOT NULL,
    valid_until     TEXT,
    published_at    TEXT NOT NULL,
    stats           TEXT NOT NULL,              -- JSON PublishStats
    UNIQUE (prefix, distribution)
);

-- Every tree ever switched in, newest last: `Snapshots:` URLs and by-hash grace read it.
CREATE TABLE publication_history (
    id              INTEGER PRIMARY KEY,
    prefix          TEXT NOT NULL,
    distribution    TEXT NOT NULL,
    tree            TEXT NOT NULL,
    snapshot_name   TEXT NOT NULL,
    switched_at     TEXT NOT NULL
);
CREATE INDEX publication_history_dist ON publication_history(prefix, distribution, id);
