-- Migration 6: several snapshots published as the components of one
-- distribution (`snapshot publish A B --component main,internal`).
--
-- A publication of one snapshot with its own components has no rows here.
-- With rows, each names the snapshot that serves a component, in the order
-- given; `publications.snapshot_id` is the first one's. Snapshots are
-- referenced by row, so a rename follows and a drop is refused.
CREATE TABLE publication_components (
    publication_id  INTEGER NOT NULL REFERENCES publications(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,          -- 0, 1, …: the order given
    component       TEXT NOT NULL,
    snapshot_id     INTEGER NOT NULL REFERENCES snapshots(id),
    PRIMARY KEY (publication_id, component)
) WITHOUT ROWID;
CREATE INDEX publication_components_snapshot ON publication_components(snapshot_id);
