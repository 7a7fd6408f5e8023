/* leak/heur.h - memcheck's interior-pointer heuristics by name (see
 * leak/heuristics.c for what each recognises).  Shared by the library and
 * the command: no allocation, no state.
 */
#ifndef SA_LEAK_HEUR_H
#define SA_LEAK_HEUR_H

enum { SA_LEAK_HEUR_STDSTRING = 0, SA_LEAK_HEUR_LENGTH64 = 1, SA_LEAK_HEUR_NEWARRAY = 2,
       SA_LEAK_HEUR_MULTIPLEINHERITANCE = 3, SA_LEAK_NHEUR = 4, SA_LEAK_HEUR_ALL = 15 };

/* "stdstring", "length64", "newarray", "multipleinheritance". */
extern const char *const sa_leak_heur_names[SA_LEAK_NHEUR];

/* "all", "none" or a comma-separated list of names -> a mask of
 * 1 << SA_LEAK_HEUR_*.  0, or -1 (mask untouched) on anything else. */
int sa_leak_heur_parse(const char *s, unsigned *mask);

#endif
