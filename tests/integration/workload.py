# workload.py - a CPython workload for python3.sh: with PYTHONMALLOC=malloc
# every object lives in malloc memory, so this exercises the allocator with
# many small blocks of mixed lifetimes, dict/list resizes (realloc) and a
# few large buffers.  The output is deterministic (no set/hash order, no
# addresses, no time) so that it can be compared byte for byte.

import hashlib
import json
import re
from collections import Counter, OrderedDict, defaultdict, deque


def lcg(seed):
    """A deterministic pseudo-random stream (independent of random's version)."""
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x >> 33


# -- dicts and lists -----------------------------------------------------------
rng = lcg(42)
words = ["".join(chr(97 + (next(rng) % 26)) for _ in range(3 + next(rng) % 9))
         for _ in range(20000)]
freq = Counter(words)
print("words", len(words), "distinct", len(freq))
print("top", sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))[:5])

index = defaultdict(list)
for i, w in enumerate(words):
    index[w[0]].append(i)
print("index", [(k, len(index[k]), sum(index[k]) % 9973) for k in sorted(index)][:8])

table = {i: [i * j for j in range(i % 17)] for i in range(30000)}
for i in range(0, 30000, 3):
    del table[i]
print("table", len(table), sum(sum(v) for v in table.values()) % 1000003)

# -- sorting -------------------------------------------------------------------
nums = [next(rng) % 1000000 for _ in range(50000)]
s1 = sorted(nums)
s2 = sorted(nums, key=lambda v: (v % 1000, -v))
pairs = sorted(zip(words, nums[:len(words)]), key=lambda p: (p[0], p[1]))
print("sort", s1[:3], s1[-3:], s2[:3], pairs[0], pairs[-1])

# -- json round trip -----------------------------------------------------------
doc = {
    "name": "snapalloc",
    "items": [{"id": i, "tags": [w.upper() for w in words[i:i + 4]],
               "score": (nums[i] % 1000) / 7.0, "ok": i % 3 == 0, "none": None}
              for i in range(5000)],
    "nested": {"a": {"b": {"c": list(range(100))}}},
}
text = json.dumps(doc, sort_keys=True)
back = json.loads(text)
assert back == doc
pretty = json.dumps(back, indent=2, sort_keys=True)
print("json", len(text), len(pretty), hashlib.sha256(text.encode()).hexdigest()[:16])


# -- a class hierarchy ---------------------------------------------------------
class Shape:
    registry = []

    def __init__(self, name):
        self.name = name
        Shape.registry.append(self)

    def area(self):
        raise NotImplementedError

    def __repr__(self):
        return "%s(%s, %.3f)" % (type(self).__name__, self.name, self.area())


class Rect(Shape):
    def __init__(self, name, w, h):
        super().__init__(name)
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Square(Rect):
    def __init__(self, name, s):
        super().__init__(name, s, s)


class Circle(Shape):
    __slots__ = ("r",)

    def __init__(self, name, r):
        super().__init__(name)
        self.r = r

    def area(self):
        return 3.141592653589793 * self.r * self.r


for i in range(20000):
    k = i % 3
    if k == 0:
        Rect("r%d" % i, i % 13 + 1, i % 7 + 1)
    elif k == 1:
        Square("s%d" % i, i % 11 + 1)
    else:
        Circle("c%d" % i, (i % 5 + 1) / 2)
by_type = OrderedDict()
for sh in Shape.registry:
    by_type.setdefault(type(sh).__name__, []).append(sh.area())
print("shapes", [(k, len(v), round(sum(v), 3)) for k, v in by_type.items()])
print("repr", repr(Shape.registry[0]), repr(Shape.registry[1]), repr(Shape.registry[2]))
Shape.registry.clear()


# -- a generator pipeline ------------------------------------------------------
def produce(n):
    r = lcg(7)
    for _ in range(n):
        yield next(r) % 100000


def window(it, size):
    d = deque(maxlen=size)
    for v in it:
        d.append(v)
        if len(d) == size:
            yield tuple(d)


def keep_rising(it):
    for t in it:
        if t[0] < t[-1]:
            yield t


total = 0
count = 0
for t in keep_rising(window(produce(100000), 5)):
    total += sum(t)
    count += 1
print("pipeline", count, total)

# -- string formatting and regular expressions ---------------------------------
lines = ["{:>6d}|{:<10s}|{:08.3f}|{!r}".format(i, words[i], nums[i] / 1000, words[i][::-1])
         for i in range(3000)]
blob = "\n".join(lines)
print("format", len(blob), lines[0], lines[2999])
pat = re.compile(r"\|([a-z]{4})\|?")
found = pat.findall(blob.replace(" ", ""))
print("regex", len(found), found[:5])
parts = blob.split("|")
joined = "-".join(p.strip() for p in parts[:2000])
print("split", len(parts), hashlib.md5(joined.encode()).hexdigest())

# -- large buffers: bytes, bytearray growth ------------------------------------
buf = bytearray()
for i in range(2000):
    buf += bytes([i % 251]) * (i % 97 + 1)
big = bytes(buf) * 8
print("bytes", len(buf), len(big), hashlib.sha1(big).hexdigest()[:16])
print("done")
