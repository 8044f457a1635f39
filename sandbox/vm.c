/* SPDX-License-Identifier: Apache-2.0 */
/* cella sandbox: find the VMM and the guest kernel, pick the accelerator,
 * size the VM, and build QEMU's command line. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileutil.h"
#include "base/log.h"
#include "base/util.h"

#define DEFAULT_DATA_DIR "/var/lib/cella/vm"

static char *find_in_path(const char *name)
{
        const char *path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = xstrdup(path);
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p = xasprintf("%s/%s", d, name);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

static int find_qemu(struct sandbox_vm *vm, const char *given, struct cella_error *err)
{
        const char *q = given && *given ? given : getenv("CELLA_QEMU");
        if (q && *q) {
                if (access(q, X_OK) < 0)
                        return cella_error_sys(err, "VMM %s (from --vmm or CELLA_QEMU)", q);
                vm->qemu = xstrdup(q);
                return 0;
        }
        vm->qemu = find_in_path("qemu-system-x86_64");
        if (!vm->qemu)
                return cella_error_msg(err, ENOENT,
                                       "--sandbox vm: qemu-system-x86_64 not found in PATH: install it "
                                       "(apt-get install qemu-system-x86) or give --vmm PATH");
        return 0;
}

static int find_kernel(struct sandbox_vm *vm, const char *given_dir, struct cella_error *err)
{
        const char *k = given_dir && *given_dir ? given_dir : getenv("CELLA_VM_KERNEL");
        bool given = k && *k;
        _cleanup_free_ char *dir = given ? xstrdup(k) : xasprintf("%s/kernel", DEFAULT_DATA_DIR);
        _cleanup_free_ char *vmlinux = xasprintf("%s/vmlinux", dir);
        _cleanup_free_ char *order = xasprintf("%s/modules/load-order", dir);
        if (access(vmlinux, R_OK) < 0)
                return cella_error_msg(err, ENOENT,
                                       "--sandbox vm: no guest kernel at %s (%s): run scripts/prepare-vm-kernel.sh "
                                       "(it downloads Debian's linux-image-amd64 into %s) or give --vm-kernel DIR",
                                       vmlinux, strerror(errno), DEFAULT_DATA_DIR);
        if (access(order, R_OK) < 0)
                return cella_error_msg(err, ENOENT,
                                       "--sandbox vm: kernel directory %s has no modules/load-order: it needs the "
                                       "virtio_mmio, virtio_console, 9p and overlay modules; prepare it with "
                                       "scripts/prepare-vm-kernel.sh", dir);
        vm->kernel_dir = steal_pointer(&dir);
        return 0;
}

static bool cpu_has_virt_flag(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, "/proc/cpuinfo", &buf, &len, &e) < 0)
                return false;
        const char *flags = strstr(buf, "\nflags");
        if (!flags)
                return false;
        const char *eol = strchr(flags + 1, '\n');
        _cleanup_free_ char *line = xstrndup(flags, eol ? (size_t)(eol - flags) : strlen(flags));
        return strstr(line, " vmx") || strstr(line, " svm");
}

/* KVM only when it can run a stock kernel: kvm_pvm (a paravirtual KVM with
 * no hardware virtualization underneath) cannot, see docs/sandbox.md. */
static int pick_accel(struct sandbox_vm *vm, const char *given, struct cella_error *err)
{
        const char *a = given && *given ? given : getenv("CELLA_VM_ACCEL");
        if (!a || !*a)
                a = "auto";
        if (streq(a, "tcg")) {
                vm->kvm = false;
                return 0;
        }
        bool dev = access("/dev/kvm", R_OK | W_OK) == 0;
        bool pvm = access("/sys/module/kvm_pvm", F_OK) == 0;
        bool hw = cpu_has_virt_flag();
        if (streq(a, "kvm")) {
                if (!dev)
                        return cella_error_msg(err, ENODEV, "--vm-accel kvm: /dev/kvm is not usable (%s)", strerror(errno));
                vm->kvm = true;
                return 0;
        }
        if (!streq(a, "auto"))
                return cella_error_msg(err, EINVAL, "--vm-accel: expected auto, kvm or tcg, not \"%s\"", a);
        vm->kvm = dev && !pvm && hw;
        if (dev && !vm->kvm)
                log_warn("--sandbox vm: /dev/kvm is %s, which cannot boot a stock kernel: using TCG emulation (slow)",
                         pvm ? "kvm_pvm" : "present but the CPU has no vmx/svm");
        return 0;
}

unsigned sandbox_mem_mb(const struct cella_spec *spec)
{
        const struct cella_resources *r = &spec->linux_.resources;
        if (!spec->linux_.has_resources || !r->memory.limit.set || r->memory.limit.value <= 0)
                return SANDBOX_MEM_DEFAULT_MB;
        uint64_t mb = ((uint64_t)r->memory.limit.value + (1 << 20) - 1) >> 20;
        mb += SANDBOX_MEM_OVERHEAD_MB;
        if (mb < SANDBOX_MEM_MIN_MB)
                mb = SANDBOX_MEM_MIN_MB;
        if (mb > 1u << 20)
                mb = 1u << 20;
        return (unsigned)mb;
}

unsigned sandbox_cpus(const struct cella_spec *spec)
{
        const struct cella_resources *r = &spec->linux_.resources;
        long host = sysconf(_SC_NPROCESSORS_ONLN);
        if (host < 1)
                host = 1;
        if (!spec->linux_.has_resources || !r->cpu.quota.set || r->cpu.quota.value <= 0)
                return 1;
        uint64_t period = r->cpu.period.set && r->cpu.period.value ? r->cpu.period.value : 100000;
        uint64_t n = ((uint64_t)r->cpu.quota.value + period - 1) / period;
        if (n < 1)
                n = 1;
        if (n > (uint64_t)host)
                n = (uint64_t)host;
        return (unsigned)n;
}

int sandbox_vm_find(const char *vmm, const char *kernel_dir, const char *accel, struct sandbox_vm *vm,
                    struct cella_error *err)
{
        memset(vm, 0, sizeof *vm);
        if (find_qemu(vm, vmm, err) < 0 || find_kernel(vm, kernel_dir, err) < 0 || pick_accel(vm, accel, err) < 0) {
                sandbox_vm_release(vm);
                return -1;
        }
        vm->mem_mb = SANDBOX_MEM_DEFAULT_MB;
        vm->cpus = 1;
        return 0;
}

int sandbox_vm_resolve(const struct cella_spec *spec, struct sandbox_vm *vm, struct cella_error *err)
{
        if (sandbox_vm_find(NULL, NULL, NULL, vm, err) < 0)
                return -1;
        vm->mem_mb = sandbox_mem_mb(spec);
        vm->cpus = sandbox_cpus(spec);
        return 0;
}

void sandbox_vm_release(struct sandbox_vm *vm)
{
        free((char *)vm->qemu);
        free(vm->kernel_dir);
        memset(vm, 0, sizeof *vm);
}

/* Under TCG the guest's TSC runs at the host's rate; telling the guest that
 * rate skips PIT calibration, which fails at random under TCG and hangs the
 * boot (measured: 1 boot in 3 without it). */
static unsigned long tsc_khz(void)
{
        _cleanup_free_ char *buf = NULL;
        size_t len;
        struct cella_error e = { 0 };
        if (read_file_at(AT_FDCWD, "/proc/cpuinfo", &buf, &len, &e) < 0)
                return 0;
        const char *p = strstr(buf, "cpu MHz");
        if (!p || !(p = strchr(p, ':')))
                return 0;
        return (unsigned long)(strtod(p + 1, NULL) * 1000);
}

void sandbox_argv_add(struct sandbox_argv *b, char *s)
{
        b->v = xrealloc(b->v, (b->n + 2) * sizeof *b->v);
        b->v[b->n++] = s;
        b->v[b->n] = NULL;
}

void sandbox_qemu_base(struct sandbox_argv *b, const struct sandbox_vm *vm, const char *initrd, const char *console)
{
        sandbox_argv_add(b, xstrdup(vm->qemu));
        const char *fixed[] = { "-M", "microvm", "-nodefaults", "-no-user-config", "-display", "none",
                                "-no-reboot", "-accel", vm->kvm ? "kvm" : "tcg" };
        for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
                sandbox_argv_add(b, xstrdup(fixed[i]));
        if (vm->kvm) {
                sandbox_argv_add(b, xstrdup("-cpu"));
                sandbox_argv_add(b, xstrdup("host"));
        }
        sandbox_argv_add(b, xstrdup("-smp"));
        sandbox_argv_add(b, xasprintf("%u", vm->cpus));
        sandbox_argv_add(b, xstrdup("-m"));
        sandbox_argv_add(b, xasprintf("%u", vm->mem_mb));
        sandbox_argv_add(b, xstrdup("-kernel"));
        sandbox_argv_add(b, xasprintf("%s/vmlinux", vm->kernel_dir));
        sandbox_argv_add(b, xstrdup("-initrd"));
        sandbox_argv_add(b, xstrdup(initrd));
        _cleanup_free_ char *cmdline = xstrdup(
                "console=ttyS0 quiet panic=-1 pci=off tsc=reliable mitigations=off 8250.nr_uarts=1 "
                "cryptomgr.notests random.trust_cpu=on nowatchdog audit=0 rdinit=/init");
        unsigned long khz = vm->kvm ? 0 : tsc_khz();
        if (khz) {
                char *c = xasprintf("%s tsc_early_khz=%lu", cmdline, khz);
                free(cmdline);
                cmdline = c;
        }
        sandbox_argv_add(b, xstrdup("-append"));
        sandbox_argv_add(b, steal_pointer(&cmdline));
        sandbox_argv_add(b, xstrdup("-chardev"));
        sandbox_argv_add(b, xasprintf("file,id=con,path=%s", console));
        sandbox_argv_add(b, xstrdup("-serial"));
        sandbox_argv_add(b, xstrdup("chardev:con"));
        sandbox_argv_add(b, xstrdup("-device"));
        sandbox_argv_add(b, xstrdup("virtio-serial-device,max_ports=8"));
}

void sandbox_qemu_port(struct sandbox_argv *b, int index, const char *chardev, const char *name)
{
        sandbox_argv_add(b, xstrdup("-chardev"));
        sandbox_argv_add(b, xasprintf("%s,id=p%d", chardev, index));
        sandbox_argv_add(b, xstrdup("-device"));
        sandbox_argv_add(b, xasprintf("virtserialport,chardev=p%d,name=%s", index, name));
}

void sandbox_qemu_share(struct sandbox_argv *b, const char *id, const char *path, const char *tag, bool readonly,
                        const char *extra)
{
        sandbox_argv_add(b, xstrdup("-fsdev"));
        sandbox_argv_add(b, xasprintf("local,id=%s,path=%s,security_model=%s%s%s", id, path,
                                      geteuid() == 0 ? "passthrough" : "none", readonly ? ",readonly=on" : "",
                                      extra ? extra : ""));
        sandbox_argv_add(b, xstrdup("-device"));
        sandbox_argv_add(b, xasprintf("virtio-9p-device,fsdev=%s,mount_tag=%s", id, tag));
}

char **sandbox_qemu_argv(const struct sandbox_vm *vm, const char *initrd, const char *rootfs,
                         char *const chardevs[SANDBOX_N_PORTS], const char *console)
{
        struct sandbox_argv b = { 0 };
        static const char *const names[SANDBOX_N_PORTS] = { SANDBOX_PORT_STDIN, SANDBOX_PORT_STDOUT,
                                                            SANDBOX_PORT_STDERR, SANDBOX_PORT_CTL,
                                                            SANDBOX_PORT_EXEC_OUT, SANDBOX_PORT_EXEC_ERR };
        sandbox_qemu_base(&b, vm, initrd, console);
        for (int i = 0; i < SANDBOX_N_PORTS; i++)
                sandbox_qemu_port(&b, i, chardevs[i], names[i]);
        sandbox_qemu_share(&b, "rootfs", rootfs, SANDBOX_ROOTFS_TAG, true, NULL);
        return b.v;
}
