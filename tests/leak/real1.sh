#!/bin/sh
# real1.sh - the leak check on real programs, against valgrind memcheck on
# the same command: definite, indirect and possible bytes and blocks equal
# (the numbers are not hard-coded).  Part 1: python3 (PYTHONMALLOC=malloc,
# so every object is a malloc block; a short script using json,
# collections and decimal), python3 with its own allocator (pymalloc) and
# perl.  Inputs are tiny: memcheck is slow.
set -eu
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/leak/memcheck_lib.sh"
mc_init real1

# /usr/bin/python3: on a development machine `python3` may be a pyenv shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || :)
if [ -n "$PY" ] && mc_selected python3; then
    cat >"$SA_TMP/work.py" <<'PYEOF'
import collections, decimal, json
words = collections.Counter("the quick brown fox jumps over the lazy dog the end".split())
doc = json.dumps({"words": words, "total": sum(words.values())}, sort_keys=True)
back = json.loads(doc)
decimal.getcontext().prec = 30
third = decimal.Decimal(1) / decimal.Decimal(3)
print(back["total"], words.most_common(1)[0][0], str(third * 3)[:6])
PYEOF
    # In the environment, not through env(1): memcheck does not follow exec.
    PYTHONMALLOC=malloc
    export PYTHONMALLOC
    mc_compare python3 "" "" "$PY" "$SA_TMP/work.py"
    unset PYTHONMALLOC
fi
# CPython's own allocator (the default, and what a child started with -I
# or -E gets): pymalloc's arenas are mmap'ed by the program, and the only
# pointers to many malloc blocks are in them; memcheck scans them.
if [ -n "$PY" ] && mc_selected python3_pymalloc; then
    mc_compare python3_pymalloc "0/0 0/0 0/0" "" "$PY" -I -c 'import json, collections, decimal'
fi
if command -v perl >/dev/null 2>&1 && mc_selected perl; then
    # perl randomises its hashes per run: the same seed for both runs.
    PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
    export PERL_HASH_SEED PERL_PERTURB_KEYS
    mc_compare perl "" "" perl -e 'my %h; $h{$_ % 7} .= "x$_" for 1..200;
        my @k = sort { length($h{$b}) <=> length($h{$a}) } keys %h;
        my $s = join(",", map { "$_=" . length($h{$_}) } @k); print "$s\n";'
fi
mc_done
