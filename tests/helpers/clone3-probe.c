/* SPDX-License-Identifier: Apache-2.0 */
/* clone3-probe: what a seccomp filter answers a program built against a
 * newer kernel than its profile. Built static, so it runs in the busybox
 * rootfs. Prints one line per probe:
 *   clone3 errno=N    clone3(NULL, 0): 38 (ENOSYS) once a filter is in
 *                     that does not know it (without a filter: EINVAL)
 *   unknown errno=N   syscall number 1000, which no kernel has yet
 *   mkdir errno=N     an old syscall the profile leaves to its default
 *   thread ok|error=N pthread_create: glibc tries clone3 first and falls
 *                     back to clone only on ENOSYS */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *thread_main(void *arg)
{
        return arg;
}

static int errno_of(long r)
{
        return r < 0 ? errno : 0;
}

int main(void)
{
        errno = 0;
        printf("clone3 errno=%d\n", errno_of(syscall(435, NULL, 0)));
        errno = 0;
        printf("unknown errno=%d\n", errno_of(syscall(1000, 0, 0, 0)));
        errno = 0;
        printf("mkdir errno=%d\n", errno_of(syscall(SYS_mkdir, "/clone3-probe-dir", 0755)));
        pthread_t t;
        int r = pthread_create(&t, NULL, thread_main, NULL);
        if (r == 0 && pthread_join(t, NULL) == 0)
                printf("thread ok\n");
        else
                printf("thread error=%d\n", r);
        fflush(stdout);
        return 0;
}
