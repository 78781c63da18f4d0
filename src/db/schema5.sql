-- Migration 5: when each object-storage pool was last listed whole.
--
-- A bucket's pool listing is paged a thousand keys a request; for a pool of
-- 60,000 objects it is the bulk of an incremental publish. Within a while of
-- a full listing, a publish trusts `remote_pool` (which every publish and gc
-- of this database keeps current) and asks the server only about the paths
-- the record does not know. An object removed behind debvault's back is
-- found by the next full listing, or at once by `verify`.
CREATE TABLE remote_pool_listed (
    location  TEXT PRIMARY KEY,          -- as in remote_pool
    listed_at TEXT NOT NULL              -- RFC 3339, when the listing began
) WITHOUT ROWID;
