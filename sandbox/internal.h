/* SPDX-License-Identifier: Apache-2.0 */
/* cella sandbox internals shared by the host side and the guest agent. */
#ifndef CELLA_SANDBOX_INTERNAL_H
#define CELLA_SANDBOX_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

/* Names of the virtio-serial ports (the guest finds them in
 * /sys/class/virtio-ports/ * /name) and of the 9p share. */
#define SANDBOX_PORT_STDIN  "cella.stdin"
#define SANDBOX_PORT_STDOUT "cella.stdout"
#define SANDBOX_PORT_STDERR "cella.stderr"
#define SANDBOX_PORT_CTL    "cella.ctl"
#define SANDBOX_PORT_EXEC_OUT "cella.exec.out"     /* `cella exec`'s stdout and stderr */
#define SANDBOX_PORT_EXEC_ERR "cella.exec.err"
#define SANDBOX_N_PORTS 6
#define SANDBOX_ROOTFS_TAG  "cella.rootfs"
/* Files inside the initramfs */
#define SANDBOX_GUEST_DIR     "/cella-sandbox"
#define SANDBOX_GUEST_CONFIG  SANDBOX_GUEST_DIR "/config.json"
#define SANDBOX_GUEST_PARAMS  SANDBOX_GUEST_DIR "/params"    /* id=ID, stdin=port|null */
#define SANDBOX_GUEST_MODULES SANDBOX_GUEST_DIR "/modules"

/* Control protocol: one text line per message on the ctl port.
 *   host -> guest: "start", "kill SIG", "exec TOKEN..." (A<hex>: an
 *                  argument, E<hex>: an env entry, C<hex>: the cwd)
 *   guest -> host: "booted", "created", "exit N" (the container),
 *                  "exec-exit N", and for each request, in order, "ok" or
 *                  "error MESSAGE" */

/* ---- cpio (newc) writer: the initramfs ---- */
struct cpio {
        int fd;
        unsigned ino;
        char **dirs;            /* directories already written */
        size_t n_dirs;
        int error;              /* first errno */
};
void cpio_init(struct cpio *c, int fd);
/* parents are added as needed */
void cpio_add_data(struct cpio *c, const char *name, mode_t mode, const void *data, size_t len);
int cpio_add_host_file(struct cpio *c, const char *name, const char *host_path, mode_t mode,
                       struct cella_error *err);
void cpio_add_symlink(struct cpio *c, const char *name, const char *target);
void cpio_add_dir(struct cpio *c, const char *name);
void cpio_add_chardev(struct cpio *c, const char *name, mode_t mode, unsigned major, unsigned minor);
/* writes the trailer; returns -1 (errno in err) if any write failed */
int cpio_finish(struct cpio *c, struct cella_error *err);

/* Write the VM's initramfs as NAME in dirfd. */
struct sandbox_vm;
int sandbox_build_initrd(int dirfd, const char *name, const struct sandbox_vm *vm, const char *config_text,
                         const char *params, struct cella_error *err);

/* The same initramfs with other files in it (VM pods: a marker and the
 * network description instead of a config). */
struct sandbox_file {
        const char *name;       /* absolute path in the guest */
        const char *data;
        size_t len;
};
int sandbox_build_initrd_files(int dirfd, const char *name, const struct sandbox_vm *vm,
                               const struct sandbox_file *files, size_t n_files, struct cella_error *err);

/* ---- the VMM ---- */
struct sandbox_vm {
        const char *qemu;       /* resolved path */
        char *kernel_dir;       /* vmlinux, release, modules/ */
        bool kvm;
        unsigned mem_mb;
        unsigned cpus;
};
/* --vmm / CELLA_QEMU / PATH; --vm-kernel / CELLA_VM_KERNEL / data dir;
 * --vm-accel / CELLA_VM_ACCEL. Errors say what to install. */
int sandbox_vm_resolve(const struct cella_spec *spec, struct sandbox_vm *vm, struct cella_error *err);
/* The same with explicit choices (NULL: the environment, then the
 * defaults); RAM SANDBOX_MEM_DEFAULT_MB and 1 vCPU, for the caller to set. */
int sandbox_vm_find(const char *vmm, const char *kernel_dir, const char *accel, struct sandbox_vm *vm,
                    struct cella_error *err);
void sandbox_vm_release(struct sandbox_vm *vm);

/* QEMU's argv (NULL-terminated, malloc'd strings). chardevs: the -chardev
 * backends (without id) of the stdin, stdout, stderr, ctl, exec.out and
 * exec.err ports;
 * console: log path. */
char **sandbox_qemu_argv(const struct sandbox_vm *vm, const char *initrd, const char *rootfs,
                         char *const chardevs[SANDBOX_N_PORTS], const char *console);

/* QEMU's argv piece by piece (VM pods): the machine, kernel, initrd,
 * console and the virtio-serial bus; then ports and 9p shares. */
struct sandbox_argv {
        char **v;               /* NULL-terminated */
        size_t n;
};
void sandbox_argv_add(struct sandbox_argv *b, char *s);   /* takes s */
void sandbox_qemu_base(struct sandbox_argv *b, const struct sandbox_vm *vm, const char *initrd, const char *console);
void sandbox_qemu_port(struct sandbox_argv *b, int index, const char *chardev, const char *name);
/* a 9p share; extra: more -fsdev options (",multidevs=remap") */
void sandbox_qemu_share(struct sandbox_argv *b, const char *id, const char *path, const char *tag, bool readonly,
                        const char *extra);

/* Guest RAM for a memory limit: limit + overhead, at least the minimum. */
#define SANDBOX_MEM_OVERHEAD_MB 160u
#define SANDBOX_MEM_MIN_MB      192u
#define SANDBOX_MEM_DEFAULT_MB  256u
unsigned sandbox_mem_mb(const struct cella_spec *spec);
unsigned sandbox_cpus(const struct cella_spec *spec);

#endif
