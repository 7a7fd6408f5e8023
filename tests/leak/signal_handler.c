/* signal_handler.c - raise(SIGUSR1); the handler mallocs a 48-byte
 * message, writes it and loses it.  memcheck: definitely lost 48 bytes
 * in 1 block. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_usr1(int sig)
{
    char *msg = malloc(48);
    snprintf(msg, 48, "got signal %d\n", sig);
    if (write(1, msg, strlen(msg)) < 0)
        _exit(1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    return 0;
}
