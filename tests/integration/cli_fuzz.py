# cli_fuzz.py - feeds `snapalloc show` a real snapshot truncated at every
# byte offset and with random byte flips, and (version 3) with lying
# timeline and histogram sections under a valid checksum (inside the
# compressed container, deflated again); every damaged
# file must be rejected with exit status 2 and exactly one stderr line
# "snapalloc: ..." (for the lies: the expected one), never a crash.
# Usage: python3 cli_fuzz.py SNAPALLOC SNAPSHOT TMPDIR [--lies-only]
import os
import random
import struct
import subprocess
import sys
import zlib

cmd, snap, tmp = sys.argv[1:4]
lies_only = sys.argv[4:] == ['--lies-only']
data = open(snap, 'rb').read()
bad = os.path.join(tmp, 'damaged.snap')
failures = []


def check(blob, what, want=''):
    with open(bad, 'wb') as f:
        f.write(blob)
    for extra in ([], ['--by', 'traceback', '--json']):
        p = subprocess.run([cmd, 'show', bad] + extra, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        lines = p.stderr.decode('utf-8', 'replace').splitlines()
        if p.returncode != 2 or len(lines) != 1 or not lines[0].startswith('snapalloc: ') \
                or want not in lines[0]:
            failures.append('%s %s: status %d, stderr %r' % (what, extra, p.returncode, lines[:3]))
            return


def u32(b, at):
    return struct.unpack_from('<I', b, at)[0]


def fnv1a(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def varint(b, p):
    x = shift = 0
    while True:
        c = b[p]
        p += 1
        x |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return x, p


def unwrap(b):
    """The logical file of a version-3 container (doc/snapshot-format.md)."""
    return zlib.decompress(b[24:]) if b[:8] == b'SNAPALZ\0' else b


def wrap(logical):
    return b'SNAPALZ\0' + struct.pack('<IIQ', 3, 0, len(logical)) + zlib.compress(logical, 1)


def sections(b):
    """Offsets of the timeline and histogram counts in a logical v3 file."""
    p = 64 + u32(b, 56) + u32(b, 60)
    for _ in range(u32(b, 52)):
        p += 24 + u32(b, p) + u32(b, p + 4) + 20 * u32(b, p + 8)
    while True:                       # stacks: node code, size, count
        code, p = varint(b, p)
        if not code:
            break
        p = varint(b, varint(b, p)[1])[1]
    for _ in range(2):                # the tree, then the frame table
        n, p = varint(b, p)
        for _ in range(2 * n):
            p = varint(b, p)[1]
    return p, p + 4 + 24 * u32(b, p)


logical = unwrap(data)


def lie(fmt, at, value, want, what):
    blob = bytearray(logical)
    struct.pack_into(fmt, blob, at, value)
    struct.pack_into('<Q', blob, len(blob) - 8, fnv1a(bytes(blob[:-8])))
    check(wrap(bytes(blob)), what, want)


nlies = 0
if data[:8] == b'SNAPALZ\0':
    tl, hist = sections(logical)
    lie('<I', tl, 1 << 20, 'corrupt file: timeline at offset', 'timeline count')
    lie('<I', tl, 60000, 'truncated file: 60000 timeline points', 'timeline count')
    lie('<I', hist, 7, 'histogram at offset', 'histogram buckets')
    nlies = 3
    if lies_only:
        assert u32(logical, tl) >= 1 and u32(logical, hist) == 65, \
            'no points or histogram to lie about'
        lie('<q', tl + 4, -1, 'timeline point 0 at offset', 'timeline time negative')
        if u32(logical, tl) >= 2:
            lie('<q', tl + 4 + 24, 0, 'timeline point 1 at offset', 'timeline time back')
            nlies += 1
        big = max(range(65), key=lambda i: struct.unpack_from('<Q', logical, hist + 4 + 16 * i)[0])
        lie('<Q', hist + 4 + 16 * big + 8, 0, 'histogram bucket %d at offset' % big,
            'histogram size')
        nlies += 2
if lies_only:
    if failures:
        print('\n'.join(failures))
        sys.exit(1)
    print('ok: %d lying sections rejected' % nlies)
    sys.exit(0)


def same_content(blob):
    """A flip of deflate's padding bits after its last code changes no
    content: such a file is still the snapshot it was."""
    try:
        return blob[:24] == data[:24] and zlib.decompress(blob[24:]) == logical
    except zlib.error:
        return False


for n in range(len(data)):
    check(data[:n], 'truncated at %d' % n)
rng = random.Random(4)   # deterministic
for i in range(300):
    pos = rng.randrange(len(data))
    flip = rng.randrange(1, 256)
    blob = bytearray(data)
    blob[pos] ^= flip
    if not same_content(bytes(blob)):
        check(bytes(blob), 'byte %d ^= 0x%02x' % (pos, flip))
if failures:
    print('%d damaged files accepted or mishandled (of %d sizes, 300 flips):'
          % (len(failures), len(data)))
    for f in failures[:20]:
        print('  ' + f)
    sys.exit(1)
print('ok: %d truncations, 300 flips rejected' % len(data))
