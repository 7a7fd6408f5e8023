/* commands.h - the subcommands' entry points, called by main
 * (snapalloc.c) with argv[0] the subcommand's name.  They return the exit
 * status; usage errors exit 2 from inside (cli.h).
 */
#ifndef SA_TOOLS_COMMANDS_H
#define SA_TOOLS_COMMANDS_H

int sa_cmd_run(int argc, char **argv);     /* run.c */
int sa_cmd_check(int argc, char **argv);   /* check.c */
int sa_cmd_show(int argc, char **argv);    /* show.c */
int sa_cmd_diff(int argc, char **argv);    /* show.c */
int sa_cmd_report(int argc, char **argv);  /* show.c */

#endif
