-- Migration 9: what each .deb installs and its Debian changelog, for
-- `Contents-<arch>` indices and `apt changelog`.
--
-- Keyed by the .deb's SHA256, so a package shared by many mirrors and
-- snapshots is read once. `files` is the sorted, newline-joined path list,
-- deflate-compressed (zlib); `origin` says where it came from: `deb` (read
-- from the file) or `contents` (seeded from the upstream Contents index of
-- the same verified Release). In `deb_changelogs` a NULL `text` means "the
-- .deb has none", so it is not read again.
CREATE TABLE deb_contents (
    sha256  TEXT PRIMARY KEY,
    files   BLOB NOT NULL,
    origin  TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE deb_changelogs (
    sha256  TEXT PRIMARY KEY,
    text    BLOB
) WITHOUT ROWID;
