/* common/compiler.h - the compiler attributes every file of libsnapalloc uses. */
#ifndef SA_COMPILER_H
#define SA_COMPILER_H

#define SA_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SA_NOINLINE    __attribute__((noinline))
#define SA_INLINE      static inline __attribute__((always_inline))
#define SA_TLS         __thread __attribute__((tls_model("initial-exec")))
/* On the extern declaration of a global the fast paths read: -fvisibility
 * hides definitions only, so without it every read of the global from
 * another file goes through the GOT (an lea and a load where one
 * rip-relative operand does: "cmpl $0, sa_trace_on(%rip)"). */
#define SA_HIDDEN      __attribute__((visibility("hidden")))

#endif
