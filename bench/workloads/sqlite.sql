-- sqlite.sql - the script of the `sqlite` workload: sqlite3 :memory: '.read sqlite.sql'
-- (200k rows; `.parameter set @rows N` before the .read sets another count)
--
-- An in-memory database, so no disk I/O is timed: insert 200k generated rows
-- in one transaction, build two indexes, run aggregates and a self-join.  The
-- page cache, B-tree nodes and prepared statements all come from malloc.  The
-- final SELECT prints one RESULT line whose numbers depend only on the data.
PRAGMA cache_size = -65536;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, blob BLOB);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < coalesce(@rows, 200000))
INSERT INTO t(id, grp, name, val, blob)
  SELECT x, (x * 7919) % 1000, printf('name-%08d-%s', (x * 104729) % 1000003, hex(x)),
         ((x * 31) % 9973) / 7.0, zeroblob(x % 97)
  FROM c;
COMMIT;
CREATE INDEX t_grp ON t(grp);
CREATE INDEX t_name ON t(name);
CREATE TEMP TABLE agg AS
  SELECT grp, count(*) AS n, sum(val) AS s, max(name) AS m, sum(length(blob)) AS b
  FROM t GROUP BY grp;
UPDATE t SET name = name || '-u' WHERE grp % 7 = 0;
DELETE FROM t WHERE grp % 11 = 0;
SELECT 'RESULT sqlite',
       (SELECT count(*) FROM t),
       (SELECT sum(n) FROM agg),
       (SELECT printf('%.3f', sum(s)) FROM agg),
       (SELECT sum(b) FROM agg),
       (SELECT count(DISTINCT substr(name, 1, 9)) FROM t),
       (SELECT count(*) FROM t a JOIN t b ON a.grp = b.grp AND a.id = b.id + 1000),
       (SELECT name FROM t ORDER BY name DESC LIMIT 1);
