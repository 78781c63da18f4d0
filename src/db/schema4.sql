-- Migration 4: what debvault wrote to pools in object storage.
--
-- A local pool file can be compared with a blob by inode; an object cannot,
-- and a listing gives only names and sizes. Each pool object debvault
-- uploads is recorded here with its SHA256, so a publish plans its pool from
-- one listing plus this table (an object the table does not know is hashed
-- once, then recorded). Pool paths are write-once, so a row never changes.
CREATE TABLE remote_pool (
    location TEXT NOT NULL,              -- s3://bucket/prefix of the publish prefix
    path     TEXT NOT NULL,              -- pool/<component>/…, relative to it
    sha256   TEXT NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (location, path)
) WITHOUT ROWID;
