/* trace/sample.c - sampled tracing's slow path and arithmetic: seeding
 * each thread's generator, drawing exponential intervals, and the weight
 * of a recorded block (the model is in sample.h).
 *
 * No libm: libsnapalloc does not link it, and the two functions needed
 * (a logarithm for the draws, 1 - exp(-x) for the weights) are a few
 * lines each to the accuracy an estimate needs (about 1e-12 relative).
 */
#include "trace/sample.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t sa_trace_sample;
SA_TLS int64_t sa_sample_left;

static SA_TLS uint64_t rng;          /* xorshift64* state; 0: not seeded */
static SA_TLS uint64_t rng_mean;     /* the interval sa_sample_left was drawn at */
static uint64_t seed_base;           /* SNAPALLOC_SAMPLE_SEED, 0: the clock */
static uint64_t seed_threads;        /* threads seeded so far (atomic) */

#define LN2 0.69314718055994530942

/* ---- Arithmetic ---------------------------------------------------------- */

double sa_sample_log(double u)
{
    /* u = m * 2^e with m in [1, 2): ln u = e ln 2 + 2 atanh((m-1)/(m+1)),
     * the series in z^2 <= 1/9 converging to 1e-12 in 12 terms. */
    uint64_t bits;
    memcpy(&bits, &u, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    double m;
    memcpy(&m, &bits, sizeof m);
    double z = (m - 1) / (m + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 1; k < 26; k += 2) {
        sum += term / k;
        term *= z2;
    }
    return e * LN2 + 2 * sum;
}

/* exp(-x) for x >= 0: 2^-k exp(-r), r in [0, ln 2). */
static double exp_neg(double x)
{
    if (x > 700)
        return 0;
    int k = (int)(x / LN2);
    double r = x - k * LN2, term = 1, sum = 1;
    for (int i = 1; i < 20; i++) {
        term *= -r / i;
        sum += term;
    }
    uint64_t bits = (uint64_t)(1023 - k) << 52;   /* 2^-k, k <= 1010 */
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    return sum * scale;
}

double sa_sample_neg_expm1(double x)
{
    if (x >= 0.5)
        return 1 - exp_neg(x);
    /* x - x^2/2 + x^3/6 - ...: no cancellation for small x. */
    double term = x, sum = 0;
    for (int i = 2; i < 22; i++) {
        sum += term;
        term *= -x / i;
    }
    return sum;
}

void sa_sample_weigh(uint64_t b, uint64_t t, uint64_t *bytes, uint64_t *blocks)
{
    if (b > t || b == 0) {   /* always recorded (a 0-byte block counts 1) */
        *bytes = b;
        *blocks = SA_SAMPLE_ONE;
        return;
    }
    double p = sa_sample_neg_expm1((double)b / (double)t);
    *bytes = (uint64_t)((double)b / p + 0.5);
    *blocks = (uint64_t)((double)SA_SAMPLE_ONE / p + 0.5);
}

/* ---- The generator ------------------------------------------------------- */

static uint64_t mix(uint64_t z)   /* splitmix64's finaliser */
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t next_random(void)
{
    uint64_t x = rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* Seed this thread: from the configured seed and the thread's rank (runs
 * repeat exactly), else from the clock, the pid and the TLS address. */
static void seed(uint64_t extra)
{
    uint64_t rank = __atomic_add_fetch(&seed_threads, 1, __ATOMIC_RELAXED);
    uint64_t s = __atomic_load_n(&seed_base, __ATOMIC_RELAXED);
    if (s) {
        s = mix(s + rank * 0x9e3779b97f4a7c15ull + extra);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)&rng
                ^ ((uint64_t)getpid() << 16) ^ rank ^ extra);
    }
    rng = s ? s : 1;
}

/* An exponential draw of mean t, at least 1: -t ln u, u uniform in (0, 1]. */
static int64_t draw(uint64_t t)
{
    double u = (double)((next_random() >> 11) + 1) * (1.0 / 9007199254740992.0);
    double d = -(double)t * sa_sample_log(u);
    /* Rounded up: a count c <= s exactly when the draw is (the sample
     * probability of s bytes stays 1 - exp(-s/t)). */
    return d > 4e18 ? (int64_t)4e18 : (int64_t)d + 1;
}

int sa_sample_decide(size_t size, uint64_t interval)
{
    if (size > interval)
        return 1;   /* always recorded; the count is left alone */
    if (!rng || rng_mean != interval) {
        /* A new thread, or a new interval: a fresh count, and this
         * allocation is measured against it like any other. */
        if (!rng)
            seed(0);
        rng_mean = interval;
        sa_sample_left = draw(interval);
    }
    int64_t left = sa_sample_left - (int64_t)size;
    if (left > 0) {
        sa_sample_left = left;   /* the count runs on */
        return 0;
    }
    sa_sample_left = draw(interval);
    return 1;
}

void sa_sample_set_seed(uint64_t s)
{
    __atomic_store_n(&seed_base, s, __ATOMIC_RELAXED);
}

/* The child would otherwise repeat its parent's choices: a new state and
 * a new count for its one thread. */
void sa_sample_postfork_child(void)
{
    if (!rng)
        return;
    seed((uint64_t)getpid() << 20);
    sa_sample_left = draw(rng_mean ? rng_mean : 1);
}
