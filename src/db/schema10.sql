-- Migration 10: AppStream (DEP-11) metadata of mirrored packages.
--
-- A sync with `--with-appstream` keeps, for each package it selects, the
-- documents `<component>/dep11/Components-<arch>.yml` of the same verified
-- Release has for it, and the icons those documents name from the
-- `icons-<size>.tar` files. Rows are keyed by the .deb's SHA256, so they are
-- stored once and shared by every revision and snapshot holding that
-- package; the first copy seen stays (a snapshot republished later gets the
-- same text). `gc` deletes rows no package row names.
CREATE TABLE appstream_headers (
    sha256  TEXT PRIMARY KEY,           -- of `yaml`
    yaml    TEXT NOT NULL               -- the header document (`File: DEP-11`, `Origin`, …)
) WITHOUT ROWID;

CREATE TABLE appstream_docs (
    package_sha256  TEXT PRIMARY KEY,   -- the .deb's SHA256 (packages.sha256)
    header_sha256   TEXT NOT NULL,      -- the header of the file they came from
    yaml            TEXT NOT NULL       -- its documents, each starting with `---`
) WITHOUT ROWID;

CREATE TABLE appstream_icons (
    package_sha256  TEXT NOT NULL,      -- the package whose documents name the icon
    size            TEXT NOT NULL,      -- `64x64`, `128x128@2`, …
    name            TEXT NOT NULL,      -- file name in `icons-<size>.tar`
    icon_sha256     TEXT NOT NULL,      -- appstream_icon_data.sha256
    PRIMARY KEY (package_sha256, size, name)
) WITHOUT ROWID;

CREATE TABLE appstream_icon_data (
    sha256  TEXT PRIMARY KEY,           -- of `data`
    data    BLOB NOT NULL               -- the PNG
) WITHOUT ROWID;
