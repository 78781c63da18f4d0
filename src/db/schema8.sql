-- Migration 8: long package descriptions from `i18n/Translation-<lang>`.
--
-- Debian's Packages entries carry the one-line Description and its
-- Description-md5; apt joins the long text on (package, md5). A row is
-- content-addressed by that key, stored once and shared by every mirror,
-- revision and snapshot whose packages carry the md5, so a snapshot merged
-- from several mirrors finds each package's own text. A sync inserts the
-- rows of the packages it selects; `gc` deletes rows no live package names.
CREATE TABLE translations (
    language     TEXT NOT NULL,              -- en, de, pt_BR, …
    package      TEXT NOT NULL,
    md5          TEXT NOT NULL,              -- the package's Description-md5
    description  TEXT NOT NULL,              -- Description-<lang>'s value, continuation lines included
    PRIMARY KEY (language, package, md5)
) WITHOUT ROWID;
