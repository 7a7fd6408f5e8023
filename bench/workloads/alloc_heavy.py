"""alloc_heavy.py - an allocation-heavy Python program for the `python` workload.

Run as `python3 alloc_heavy.py [ROUNDS]` (default 16) with PYTHONMALLOC=malloc, so that every object
CPython makes goes straight to malloc/free (pymalloc is bypassed) and the
allocator under LD_PRELOAD sees interpreter-style traffic: many small dicts,
lists, strings and ints created and dropped, plus JSON text of a few hundred
KiB.  Prints one RESULT line with a checksum that depends only on the data,
so every allocator must print the same line.
"""
import json
import sys
import zlib

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 16


def make_records(seed, n):
    records = []
    x = seed
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        records.append({
            "id": i,
            "name": "user-%d-%x" % (i, x >> 40),
            "tags": [str((x >> s) & 0xFF) for s in range(0, 40, 8)],
            "score": (x >> 20) % 10007,
            "nested": {"a": i * 3, "b": [i, i + 1, i + 2], "c": "x" * (x % 23)},
        })
    return records


def one_round(r):
    records = make_records(r + 1, 4000)
    text = json.dumps(records, sort_keys=True)
    back = json.loads(text)
    index = {rec["name"]: rec for rec in back}
    words = {}
    for rec in back:
        for t in rec["tags"]:
            words[t] = words.get(t, 0) + 1
    joined = ",".join(sorted(index))
    total = sum(rec["score"] for rec in back)
    return zlib.crc32(text.encode()) ^ zlib.crc32(joined.encode()) ^ total ^ len(words)


def main():
    checksum = 0
    for r in range(ROUNDS):
        checksum = zlib.crc32(str(one_round(r)).encode(), checksum)
    print("RESULT python rounds=%d checksum=%08x" % (ROUNDS, checksum))


main()
