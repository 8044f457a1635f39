/* SPDX-License-Identifier: Apache-2.0 */
/* pause: the sandbox ("pause") container of cella's CRI tests. It holds the
 * pod's namespaces open and does nothing: sleeps until SIGINT or SIGTERM
 * (exit 0) and, as PID 1 of a pod whose containers share its PID namespace,
 * reaps the orphans given to it. Built static by tests/helpers/cri/mkpause.sh
 * so the image needs no libc. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
        (void)sig;
        _exit(0);
}

static void on_child(int sig)
{
        (void)sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

int main(void)
{
        struct sigaction stop = { .sa_handler = on_stop };
        struct sigaction child = { .sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART };

        sigemptyset(&stop.sa_mask);
        sigemptyset(&child.sa_mask);
        if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0 ||
            sigaction(SIGCHLD, &child, NULL) < 0)
                return 1;
        for (;;)
                pause();
}
