/* SPDX-License-Identifier: Apache-2.0 */
/* bench/sandbox.sh's floor: the smallest possible guest /init. It prints
 * one line on the console and powers the VM off. */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
        static const char msg[] = "floor-ready\n";
        if (write(1, msg, sizeof msg - 1) < 0)
                return 1;
        sync();
        reboot(RB_POWER_OFF);
        return 0;
}
