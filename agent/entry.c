/* SPDX-License-Identifier: Apache-2.0 */
/* cella as PID 1 of a --sandbox vm guest: the initramfs's /init is cella
 * itself. This runs before main() so no command-line parsing is involved;
 * it only fires for PID 1 started as /init with the sandbox's files present. */
#include <string.h>
#include <unistd.h>

#include "sandbox/internal.h"
#include "sandbox/pod_wire.h"
#include "agent/agent.h"

__attribute__((constructor)) static void sandbox_agent_entry(int argc, char **argv)
{
        if (getpid() != 1 || argc < 1 || !argv[0] || strcmp(argv[0], "/init") != 0)
                return;
        if (access(POD_GUEST_MARK, R_OK) == 0)
                pod_guest_main();
        if (access(SANDBOX_GUEST_CONFIG, R_OK) != 0)
                return;
        sandbox_guest_main();
}
