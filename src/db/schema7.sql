-- Migration 7: the files of source packages.
--
-- A source package is a `packages` row with arch 'source' whose sha256 and
-- size are its .dsc's. Its other files (orig and debian tarballs, …) are
-- listed here, from the Sources stanza's Checksums-Sha256, so that gc keeps
-- their blobs and verify checks them. The .dsc is listed too: one list of
-- every file a source publishes.
CREATE TABLE source_files (
    package_id  INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (package_id, name)
) WITHOUT ROWID;
CREATE INDEX source_files_sha256 ON source_files(sha256);
