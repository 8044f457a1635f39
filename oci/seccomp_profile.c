/* SPDX-License-Identifier: Apache-2.0 */
/* cella: the default seccomp profile of `cella spec`.
 *
 * As strict as Docker's default: everything is EPERM unless allowed. The
 * allow list is what Docker's profile grants a container with Docker's
 * default capability set (CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW
 * SETGID SETUID SETFCAP SETPCAP NET_BIND_SERVICE SYS_CHROOT KILL
 * AUDIT_WRITE) on a kernel >= 4.8; the OCI format cannot express Docker's
 * per-capability includes/excludes, so those are resolved here:
 *  - ptrace and process_vm_{readv,writev} are allowed (Docker allows them
 *    from kernel 4.8, where ptrace no longer bypasses seccomp);
 *  - chroot is allowed (CAP_SYS_CHROOT is in the default set);
 *  - namespace-creating and mount-related syscalls (mount, umount2, unshare,
 *    setns, bpf, perf_event_open, sethostname, the new mount API...) stay
 *    denied, as without CAP_SYS_ADMIN;
 *  - clone is allowed only without CLONE_NEW* flags (masked_eq on arg 0),
 *    and clone3 returns ENOSYS because its flags live in memory that a
 *    filter cannot inspect — libc then falls back to clone;
 *  - personality only with PER_LINUX, PER_LINUX32, UNAME26 variants and
 *    the 0xffffffff query;
 *  - socket is allowed except for AF_ALG (38) and AF_VSOCK (40).
 * Always denied, whatever the capabilities: kexec_*, reboot, *_module,
 * swapon/off, acct, iopl/ioperm, keyctl/add_key/request_key, userfaultfd,
 * io_uring_*, open_by_handle_at, clock_settime/settimeofday, quotactl...
 *
 * Architectures: the x86 family. libseccomp adds the native architecture
 * on its own, so the profile also works on aarch64 (its own syscall names
 * are in the list). Names libseccomp does not know are skipped at compile
 * time and stay denied. */
#include "oci/spec.h"

static const char default_profile[] =
"{\n"
"  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
"  \"defaultErrnoRet\": 1,\n"
"  \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"],\n"
"  \"syscalls\": [\n"
"    {\n"
"      \"names\": [\n"
/* files and directories */
"        \"access\", \"faccessat\", \"faccessat2\", \"chdir\", \"fchdir\", \"getcwd\",\n"
"        \"chmod\", \"fchmod\", \"fchmodat\", \"fchmodat2\",\n"
"        \"chown\", \"chown32\", \"fchown\", \"fchown32\", \"fchownat\", \"lchown\", \"lchown32\",\n"
"        \"open\", \"openat\", \"openat2\", \"creat\", \"close\", \"close_range\",\n"
"        \"read\", \"readv\", \"pread64\", \"preadv\", \"preadv2\",\n"
"        \"write\", \"writev\", \"pwrite64\", \"pwritev\", \"pwritev2\",\n"
"        \"lseek\", \"_llseek\", \"dup\", \"dup2\", \"dup3\", \"fcntl\", \"fcntl64\", \"flock\",\n"
"        \"fsync\", \"fdatasync\", \"sync\", \"syncfs\", \"sync_file_range\",\n"
"        \"truncate\", \"truncate64\", \"ftruncate\", \"ftruncate64\", \"fallocate\",\n"
"        \"fadvise64\", \"fadvise64_64\", \"readahead\", \"copy_file_range\",\n"
"        \"sendfile\", \"sendfile64\", \"splice\", \"tee\", \"vmsplice\",\n"
"        \"link\", \"linkat\", \"symlink\", \"symlinkat\", \"unlink\", \"unlinkat\",\n"
"        \"rename\", \"renameat\", \"renameat2\", \"mkdir\", \"mkdirat\", \"rmdir\",\n"
"        \"mknod\", \"mknodat\", \"readlink\", \"readlinkat\", \"getdents\", \"getdents64\",\n"
"        \"stat\", \"stat64\", \"lstat\", \"lstat64\", \"fstat\", \"fstat64\", \"fstatat64\",\n"
"        \"newfstatat\", \"statx\", \"statfs\", \"statfs64\", \"fstatfs\", \"fstatfs64\",\n"
"        \"umask\", \"utime\", \"utimes\", \"utimensat\", \"utimensat_time64\", \"futimesat\",\n"
"        \"name_to_handle_at\", \"cachestat\", \"listmount\", \"statmount\",\n"
/* extended attributes */
"        \"getxattr\", \"lgetxattr\", \"fgetxattr\", \"getxattrat\",\n"
"        \"setxattr\", \"lsetxattr\", \"fsetxattr\", \"setxattrat\",\n"
"        \"listxattr\", \"llistxattr\", \"flistxattr\", \"listxattrat\",\n"
"        \"removexattr\", \"lremovexattr\", \"fremovexattr\", \"removexattrat\",\n"
/* waiting for events */
"        \"inotify_init\", \"inotify_init1\", \"inotify_add_watch\", \"inotify_rm_watch\",\n"
"        \"fanotify_mark\", \"poll\", \"ppoll\", \"ppoll_time64\", \"select\", \"_newselect\",\n"
"        \"pselect6\", \"pselect6_time64\", \"epoll_create\", \"epoll_create1\", \"epoll_ctl\",\n"
"        \"epoll_ctl_old\", \"epoll_wait\", \"epoll_wait_old\", \"epoll_pwait\", \"epoll_pwait2\",\n"
"        \"eventfd\", \"eventfd2\", \"signalfd\", \"signalfd4\",\n"
"        \"timerfd_create\", \"timerfd_settime\", \"timerfd_settime64\",\n"
"        \"timerfd_gettime\", \"timerfd_gettime64\",\n"
"        \"io_setup\", \"io_destroy\", \"io_submit\", \"io_cancel\", \"io_getevents\",\n"
"        \"io_pgetevents\", \"io_pgetevents_time64\",\n"
/* memory */
"        \"brk\", \"mmap\", \"mmap2\", \"munmap\", \"mremap\", \"mprotect\", \"madvise\",\n"
"        \"mincore\", \"mlock\", \"mlock2\", \"mlockall\", \"munlock\", \"munlockall\",\n"
"        \"msync\", \"remap_file_pages\", \"membarrier\", \"memfd_create\", \"memfd_secret\",\n"
"        \"pkey_alloc\", \"pkey_free\", \"pkey_mprotect\", \"map_shadow_stack\", \"mseal\",\n"
/* processes */
"        \"execve\", \"execveat\", \"exit\", \"exit_group\", \"fork\", \"vfork\",\n"
"        \"wait4\", \"waitid\", \"waitpid\", \"kill\", \"tkill\", \"tgkill\",\n"
"        \"getpid\", \"getppid\", \"gettid\", \"getpgid\", \"getpgrp\", \"setpgid\",\n"
"        \"getsid\", \"setsid\", \"getpriority\", \"setpriority\",\n"
"        \"getrlimit\", \"ugetrlimit\", \"setrlimit\", \"prlimit64\", \"getrusage\", \"times\",\n"
"        \"prctl\", \"pidfd_open\", \"pidfd_send_signal\", \"process_mrelease\",\n"
"        \"set_tid_address\", \"set_robust_list\", \"get_robust_list\", \"rseq\",\n"
"        \"restart_syscall\", \"pause\", \"capget\", \"capset\", \"seccomp\", \"uretprobe\",\n"
"        \"landlock_create_ruleset\", \"landlock_add_rule\", \"landlock_restrict_self\",\n"
"        \"get_thread_area\", \"set_thread_area\", \"riscv_hwprobe\",\n"
"        \"ptrace\", \"process_vm_readv\", \"process_vm_writev\", \"chroot\",\n"
/* credentials */
"        \"getuid\", \"getuid32\", \"geteuid\", \"geteuid32\", \"getgid\", \"getgid32\",\n"
"        \"getegid\", \"getegid32\", \"getresuid\", \"getresuid32\", \"getresgid\",\n"
"        \"getresgid32\", \"getgroups\", \"getgroups32\", \"setuid\", \"setuid32\",\n"
"        \"setgid\", \"setgid32\", \"setreuid\", \"setreuid32\", \"setregid\", \"setregid32\",\n"
"        \"setresuid\", \"setresuid32\", \"setresgid\", \"setresgid32\", \"setgroups\",\n"
"        \"setgroups32\", \"setfsuid\", \"setfsuid32\", \"setfsgid\", \"setfsgid32\",\n"
/* signals */
"        \"rt_sigaction\", \"rt_sigpending\", \"rt_sigprocmask\", \"rt_sigqueueinfo\",\n"
"        \"rt_sigreturn\", \"rt_sigsuspend\", \"rt_sigtimedwait\", \"rt_sigtimedwait_time64\",\n"
"        \"rt_tgsigqueueinfo\", \"sigaltstack\", \"sigprocmask\", \"sigreturn\",\n"
/* scheduling */
"        \"sched_getaffinity\", \"sched_setaffinity\", \"sched_getattr\", \"sched_setattr\",\n"
"        \"sched_getparam\", \"sched_setparam\", \"sched_getscheduler\",\n"
"        \"sched_setscheduler\", \"sched_get_priority_max\", \"sched_get_priority_min\",\n"
"        \"sched_rr_get_interval\", \"sched_rr_get_interval_time64\", \"sched_yield\",\n"
"        \"getcpu\", \"ioprio_get\", \"ioprio_set\",\n"
/* time (reading it; setting the clock needs CAP_SYS_TIME) */
"        \"alarm\", \"getitimer\", \"setitimer\", \"clock_getres\", \"clock_getres_time64\",\n"
"        \"clock_gettime\", \"clock_gettime64\", \"clock_nanosleep\",\n"
"        \"clock_nanosleep_time64\", \"nanosleep\", \"gettimeofday\", \"time\",\n"
"        \"timer_create\", \"timer_delete\", \"timer_getoverrun\", \"timer_gettime\",\n"
"        \"timer_gettime64\", \"timer_settime\", \"timer_settime64\",\n"
"        \"adjtimex\", \"clock_adjtime\", \"clock_adjtime64\",\n"
"        \"futex\", \"futex_time64\", \"futex_waitv\", \"futex_wait\", \"futex_wake\",\n"
"        \"futex_requeue\",\n"
/* System V and POSIX IPC, pipes */
"        \"ipc\", \"msgget\", \"msgctl\", \"msgsnd\", \"msgrcv\", \"semget\", \"semctl\",\n"
"        \"semop\", \"semtimedop\", \"semtimedop_time64\", \"shmget\", \"shmctl\", \"shmat\",\n"
"        \"shmdt\", \"mq_open\", \"mq_unlink\", \"mq_getsetattr\", \"mq_notify\",\n"
"        \"mq_timedreceive\", \"mq_timedreceive_time64\", \"mq_timedsend\",\n"
"        \"mq_timedsend_time64\", \"pipe\", \"pipe2\",\n"
/* sockets (socket itself is below) */
"        \"socketpair\", \"socketcall\", \"bind\", \"connect\", \"listen\", \"accept\",\n"
"        \"accept4\", \"getsockname\", \"getpeername\", \"getsockopt\", \"setsockopt\",\n"
"        \"send\", \"sendto\", \"sendmsg\", \"sendmmsg\", \"recv\", \"recvfrom\", \"recvmsg\",\n"
"        \"recvmmsg\", \"recvmmsg_time64\", \"shutdown\",\n"
/* everything else */
"        \"uname\", \"sysinfo\", \"getrandom\", \"ioctl\",\n"
/* architecture specific */
"        \"arch_prctl\", \"modify_ldt\", \"arm_fadvise64_64\", \"arm_sync_file_range\",\n"
"        \"sync_file_range2\", \"breakpoint\", \"cacheflush\", \"set_tls\"\n"
"      ],\n"
"      \"action\": \"SCMP_ACT_ALLOW\"\n"
"    },\n"
"    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 38, \"op\": \"SCMP_CMP_LT\"}]},\n"
"    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 39, \"op\": \"SCMP_CMP_EQ\"}]},\n"
"    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_GT\"}]},\n"
/* PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, query */
"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},\n"
"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]},\n"
"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 131072, \"op\": \"SCMP_CMP_EQ\"}]},\n"
"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 131080, \"op\": \"SCMP_CMP_EQ\"}]},\n"
"    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},\n"
/* no CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (0x7e020000) */
"    {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\",\n"
"     \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},\n"
/* ENOSYS: libc falls back to clone, which the rule above can check */
"    {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}\n"
"  ]\n"
"}\n";

const char *cella_default_seccomp_json(void)
{
        return default_profile;
}
