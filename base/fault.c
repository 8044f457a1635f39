/* SPDX-License-Identifier: Apache-2.0 */
#include "fault.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *name)
{
        const char *want = getenv("CELLA_FAULT");
        if (!want || strcmp(want, name) != 0)
                return;
        /* SIGKILL cannot be blocked or caught, so this is a real crash even
         * while create holds every other signal blocked */
        kill(getpid(), SIGKILL);
        for (;;)
                pause();
}
