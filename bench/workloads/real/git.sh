#!/bin/sh
# git.sh - git gc of a repository built for it (commits of generated
# files, so every run packs the same objects).  BENCH_QUICK=1: 60 commits
# instead of 300.
set -e
n=300; [ "${BENCH_QUICK:-0}" = 1 ] && n=60
d=$(mktemp -d)
cd "$d"
git init -q .
git config user.email bench@example.invalid
git config user.name bench
i=0
while [ $i -lt "$n" ]; do
    seq $((i * 37)) $((i * 37 + 2000)) >"f$((i % 20))"
    git add -A
    git commit -q -m "c$i" --date="@$((1700000000 + i)) +0000"
    i=$((i + 1))
done
git gc -q --aggressive
objs=$(git count-objects -v | sed -n 's/^in-pack: //p')
cd /
rm -rf "$d"
echo "RESULT git $n $objs"
