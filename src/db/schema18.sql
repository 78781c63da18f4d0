-- Migration 18: the caching proxy (`[proxy.NAME]` sections of `serve`).
--
-- `proxy_expected` holds what the proxy verified, per proxy and path below
-- its upstream: the index files (and their by-hash names) the last verified
-- Release of a suite lists, and the pool files the verified indices it
-- relayed name. Only a file listed here is cached, and only with this
-- content. `proxy_cached` maps the paths it holds to blobs of the shared
-- store (Release documents with the validators upstream gave them);
-- `used_at` orders pool files for eviction, and `gc` keeps every blob
-- listed here. `proxy_counts` is what `status` shows.
CREATE TABLE proxy_expected (
    proxy   TEXT NOT NULL,
    path    TEXT NOT NULL,      -- `dists/stable/main/binary-amd64/Packages.xz`, `pool/main/h/hello/hello_1_all.deb`
    sha256  TEXT NOT NULL,
    size    INTEGER NOT NULL,
    PRIMARY KEY (proxy, path)
) WITHOUT ROWID;

CREATE TABLE proxy_cached (
    proxy         TEXT NOT NULL,
    path          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    pool          INTEGER NOT NULL,   -- 1: a pool file (evictable)
    etag          TEXT,
    last_modified TEXT,
    used_at       INTEGER NOT NULL,   -- unix seconds
    PRIMARY KEY (proxy, path)
) WITHOUT ROWID;

CREATE INDEX proxy_cached_sha256 ON proxy_cached (sha256);

CREATE TABLE proxy_counts (
    proxy                 TEXT PRIMARY KEY NOT NULL,
    hits                  INTEGER NOT NULL DEFAULT 0,
    misses                INTEGER NOT NULL DEFAULT 0,
    bytes_from_cache      INTEGER NOT NULL DEFAULT 0,
    bytes_from_upstream   INTEGER NOT NULL DEFAULT 0,
    verification_failures INTEGER NOT NULL DEFAULT 0,
    upstream_errors       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
