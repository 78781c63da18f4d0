-- Migration 16: uploaders of local repositories (`repo include`).
--
-- A repo with a row here accepts a `.changes` only when it is signed by a
-- key of `keyring` that `rules` allows for every package of the upload.
-- The rules (aptly's `uploaders.json` shape, as JSON) and the public keys
-- (binary OpenPGP certificates) are stored, not the paths they were read
-- from: a later edit of those files changes nothing until `repo edit`.
CREATE TABLE repo_uploaders (
    repo_id     INTEGER PRIMARY KEY REFERENCES repos(id) ON DELETE CASCADE,
    rules       TEXT NOT NULL,
    keyring     BLOB NOT NULL,
    updated_at  TEXT NOT NULL
);
