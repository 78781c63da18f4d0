-- Migration 14: the Debian installer's images (`--with-installer`).
--
-- A sync keeps, for its new revision, every file the verified
-- `<component>/installer-<arch>/current/images/SHA256SUMS` names: its path
-- below `dists/SUITE/`, SHA256 and size. The files are ordinary blobs, shared
-- by every revision and snapshot holding them. A snapshot taken from a mirror
-- copies its revision's rows; `gc` keeps the blobs of the rows of kept
-- revisions and snapshots. Rows go with their owner (the triggers), so an id
-- SQLite reuses never inherits another owner's images.
CREATE TABLE installer_files (
    owner       TEXT NOT NULL CHECK (owner IN ('revision', 'snapshot')),
    owner_id    INTEGER NOT NULL,
    path        TEXT NOT NULL,      -- `main/installer-amd64/current/images/netboot/netboot.tar.gz`
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    PRIMARY KEY (owner, owner_id, path)
) WITHOUT ROWID;

CREATE INDEX installer_files_sha256 ON installer_files (sha256);

CREATE TRIGGER installer_files_revision_gone AFTER DELETE ON mirror_revisions BEGIN
    DELETE FROM installer_files WHERE owner = 'revision' AND owner_id = OLD.id;
END;

CREATE TRIGGER installer_files_snapshot_gone AFTER DELETE ON snapshots BEGIN
    DELETE FROM installer_files WHERE owner = 'snapshot' AND owner_id = OLD.id;
END;
