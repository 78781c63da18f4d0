-- Migration 12: on-demand mirrors, whose syncs download no package file.
--
-- `ondemand_sources`: where a package file the store does not hold can be
-- fetched, recorded by the sync of an on-demand mirror for each file it
-- left upstream. Keyed by content, so any snapshot or publication holding
-- that SHA256 can be filled from it; the URL is built from the mirror's
-- current definition when needed (its credentials stay in one place).
CREATE TABLE ondemand_sources (
    sha256    TEXT NOT NULL,
    mirror_id INTEGER NOT NULL REFERENCES mirrors(id) ON DELETE CASCADE,
    filename  TEXT NOT NULL,
    size      INTEGER NOT NULL,
    PRIMARY KEY (sha256, mirror_id)
) WITHOUT ROWID;
-- `ondemand_pool`: the pool paths a local publication lists but could not
-- fill, below the endpoint directory (`<prefix>/pool/…`): what `serve`
-- fetches through when a client asks for one. `filled_at` is set once it
-- was fetched, verified and linked into place.
CREATE TABLE ondemand_pool (
    endpoint    TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    filled_at   TEXT,
    PRIMARY KEY (endpoint, path)
) WITHOUT ROWID;
-- `ondemand_counts`: what `serve` fetched through per mirror, and how often
-- upstream failed or sent other content than its index promised.
CREATE TABLE ondemand_counts (
    mirror_id       INTEGER PRIMARY KEY REFERENCES mirrors(id) ON DELETE CASCADE,
    fetched         INTEGER NOT NULL DEFAULT 0,
    fetched_bytes   INTEGER NOT NULL DEFAULT 0,
    mismatches      INTEGER NOT NULL DEFAULT 0,
    upstream_errors INTEGER NOT NULL DEFAULT 0
);
