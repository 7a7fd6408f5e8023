/* preload/override_exit.c - the exported exit, _exit and _Exit.
 *
 * Why: the leak scan must see the exiting thread's stack as the program
 * left it.  Everything below the stack pointer of the program's call of
 * exit() (or of the return from main, which is libc's call of exit) is
 * dead: the frames of the program's earlier, deeper calls, then those of
 * exit's own path, atexit handlers, destructors and of the checker itself
 * reuse that memory, and stale copies of lost pointers survive there.
 * valgrind memcheck never sees them (it treats memory below the stack
 * pointer as inaccessible).  So each wrapper records, before it runs a
 * single instruction of its own frame, the caller's stack pointer and
 * callee-saved registers and the calling thread (sa_exit_point), and the
 * scan starts that thread's stack there (leak/scan_roots.c).
 *
 * _exit and _Exit end the process without destructors: the wrapper runs
 * the exit sequence (preload/lifecycle.c's sa_exit_quick) first, as
 * memcheck checks at _exit too.  A vfork child shares its parent's memory
 * and must not: the sequence tells it by its pid.
 *
 * A return from main reaches exit inside libc, which calls its own exit
 * directly, not through our wrapper: so __libc_start_main is wrapped too
 * (the executable's _start calls it through the dynamic linker, as every
 * dynamically linked program does), and hands libc a main of ours that
 * calls the program's main and passes its result to our exit.
 *
 * The real exit is found with dlsym(RTLD_NEXT) at start-up (lifecycle.c); the
 * real _exit is the exit_group system call.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "leak/leak.h"
#include "preload/lifecycle.h"

#define SA_EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__)
/* Record the caller's state: at entry, (%rsp) is the return address, so
 * the caller's stack pointer before the call is %rsp + 8; rbx, rbp and
 * r12-r15 still hold the caller's values.  Then tail-jump to the C part. */
#define SA_EXIT_WRAPPER(name, target)                                          \
    SA_EXPORT __attribute__((naked, noreturn)) void name(int status)           \
    {                                                                          \
        __asm__("mov %rbx, sa_exit_point+16(%rip)\n\t"               \
                         "mov %rbp, sa_exit_point+24(%rip)\n\t"               \
                         "mov %r12, sa_exit_point+32(%rip)\n\t"               \
                         "mov %r13, sa_exit_point+40(%rip)\n\t"               \
                         "mov %r14, sa_exit_point+48(%rip)\n\t"               \
                         "mov %r15, sa_exit_point+56(%rip)\n\t"               \
                         "lea 8(%rsp), %rax\n\t"                              \
                         "mov %rax, sa_exit_point+8(%rip)\n\t"                \
                         "mov %fs:0, %rax\n\t"                                \
                         "mov %rax, sa_exit_point+0(%rip)\n\t"                \
                         "jmp " #target "\n\t");                   \
    }
_Static_assert(SA_EXIT_NREGS == 6, "the wrapper saves six registers");
#else
/* Elsewhere: the wrapper's own frame address, a little below the caller's
 * stack pointer, and no registers. */
#define SA_EXIT_WRAPPER(name, target)                                          \
    SA_EXPORT __attribute__((noreturn, noinline)) void name(int status)        \
    {                                                                          \
        sa_exit_point.sp = (uintptr_t)__builtin_frame_address(0);              \
        sa_exit_point.tp = (uintptr_t)__builtin_thread_pointer();              \
        target(status);                                                        \
    }
#endif

SA_EXIT_WRAPPER(exit, sa_exit_full)
SA_EXIT_WRAPPER(_exit, sa_exit_quick)
SA_EXIT_WRAPPER(_Exit, sa_exit_quick)

/* ---- main's return --------------------------------------------------- */

typedef int (*sa_main_fn)(int, char **, char **);
typedef int (*sa_start_main_fn)(sa_main_fn, int, char **, void (*)(void), void (*)(void),
                                void (*)(void), void *);

static sa_main_fn program_main;

static int main_then_exit(int argc, char **argv, char **envp)
{
    exit(program_main(argc, argv, envp));
}

SA_EXPORT int __libc_start_main(sa_main_fn main, int argc, char **argv, void (*init)(void),
                                void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
    sa_start_main_fn next = (sa_start_main_fn)dlsym(RTLD_NEXT, "__libc_start_main");
    if (!next)
        _exit(127);   /* no libc to start the program with */
    program_main = main;
    return next(main_then_exit, argc, argv, init, fini, rtld_fini, stack_end);
}
