# cli_fuzz.py - feeds `snapalloc show` a real snapshot truncated at every
# byte offset and with random byte flips; every damaged file must be
# rejected with exit status 2 and exactly one stderr line "snapalloc: ...",
# never a crash.  Usage: python3 cli_fuzz.py SNAPALLOC SNAPSHOT TMPDIR
import os
import random
import subprocess
import sys

cmd, snap, tmp = sys.argv[1:4]
data = open(snap, 'rb').read()
bad = os.path.join(tmp, 'damaged.snap')
failures = []


def check(blob, what):
    with open(bad, 'wb') as f:
        f.write(blob)
    for extra in ([], ['--by', 'traceback', '--json']):
        p = subprocess.run([cmd, 'show', bad] + extra, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        lines = p.stderr.decode('utf-8', 'replace').splitlines()
        if p.returncode != 2 or len(lines) != 1 or not lines[0].startswith('snapalloc: '):
            failures.append('%s %s: status %d, stderr %r' % (what, extra, p.returncode, lines[:3]))
            return


for n in range(len(data)):
    check(data[:n], 'truncated at %d' % n)
rng = random.Random(4)   # deterministic
for i in range(300):
    pos = rng.randrange(len(data))
    flip = rng.randrange(1, 256)
    blob = bytearray(data)
    blob[pos] ^= flip
    check(bytes(blob), 'byte %d ^= 0x%02x' % (pos, flip))
if failures:
    print('%d damaged files accepted or mishandled (of %d sizes, 300 flips):'
          % (len(failures), len(data)))
    for f in failures[:20]:
        print('  ' + f)
    sys.exit(1)
print('ok: %d truncations, 300 flips rejected' % len(data))
