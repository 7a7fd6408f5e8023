#!/bin/sh
# real2.sh - the leak check on real programs, against valgrind memcheck on
# the same command (see real1.sh).  Part 2: sqlite3 on a small SQL script,
# git (init and status in a fresh directory: each one process) and a
# threaded C++ program whose threads are still blocked at exit
# (tests/integration/leak_cxx.cc).
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init real2

if command -v sqlite3 >/dev/null 2>&1 && mc_selected sqlite3; then
    cat >"$SA_TMP/work.sql" <<'SQLEOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO t SELECT i, 'name' || (i % 17), i * 0.5 FROM n;
CREATE INDEX t_name ON t(name);
SELECT name, count(*), sum(v) FROM t GROUP BY name ORDER BY 2 DESC, 1 LIMIT 3;
SQLEOF
    mc_compare sqlite3 "" "" sqlite3 -init "$SA_TMP/work.sql" :memory: .quit
fi
if command -v git >/dev/null 2>&1 && mc_selected git; then
    mkdir "$SA_TMP/repo"
    echo hello >"$SA_TMP/repo/file"
    export GIT_CONFIG_NOSYSTEM=1 HOME="$SA_TMP"
    mc_compare git_init "" "" git init -q "$SA_TMP/repo"
    mc_compare git_status "" "" git -C "$SA_TMP/repo" status --porcelain
fi
if mc_selected cxx; then
    # Its three threads are alive at exit: memcheck finds their dynamic
    # thread vectors possibly lost; the check takes the loader's blocks as
    # roots on purpose (README: "Where the check differs from memcheck").
    mc_compare cxx "" "0/0 0/0 0/0" "$(sa_helper leak_cxx)"
fi
mc_done
