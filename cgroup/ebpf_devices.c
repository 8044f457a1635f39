/* SPDX-License-Identifier: Apache-2.0 */
/* cella cgroup: the cgroup v2 device controller is an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. We assemble it by hand
 * from the rule list; no libbpf, no compiler.
 *
 * Program shape (ctx = struct bpf_cgroup_dev_ctx in r1):
 *   r2 = ctx->access_type & 0xffff   device type (BPF_DEVCG_DEV_CHAR/BLOCK)
 *   r3 = ctx->access_type >> 16      access (BPF_DEVCG_ACC_READ/WRITE/MKNOD)
 *   r4 = ctx->major, r5 = ctx->minor
 *   one block per rule, last rule first, so the last matching rule wins:
 *     if (r2 != type) goto next; if ((r3 & access) != r3) goto next;
 *     if (r4 != major) goto next; if (r5 != minor) goto next;
 *     return allow;
 *   return 0   (nothing matched: denied, as runc's device emulator
 *               starts from "deny all"; an "allow a" rule ends the list)
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "base/util.h"

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

#define LDX_W(dst, src, off) insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm) insn(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_REG(dst, src) insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_IMM(dst, imm) insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm) insn(BPF_JMP | BPF_JNE | BPF_K, dst, 0, 0, imm) /* off patched */
#define JNE_REG(dst, src) insn(BPF_JMP | BPF_JNE | BPF_X, dst, src, 0, 0)
#define EXIT() insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int access_mask(const char *access, int32_t *mask)
{
        *mask = 0;
        if (!*access) {
                *mask = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
                return 0;
        }
        for (const char *c = access; *c; c++) {
                switch (*c) {
                case 'r': *mask |= BPF_DEVCG_ACC_READ; break;
                case 'w': *mask |= BPF_DEVCG_ACC_WRITE; break;
                case 'm': *mask |= BPF_DEVCG_ACC_MKNOD; break;
                default: return -1;
                }
        }
        return 0;
}

int cg_devices_build(const struct cella_device_rule *rules, size_t n, struct bpf_insn **out, size_t *n_out,
                     struct cella_error *err)
{
        size_t cap = 6 + n * 9 + 2, len = 0;
        struct bpf_insn *p = xcalloc(cap, sizeof *p);
        p[len++] = LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        p[len++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff);
        p[len++] = LDX_W(BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        p[len++] = ALU32_IMM(BPF_RSH, BPF_REG_3, 16);
        p[len++] = LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
        p[len++] = LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));

        bool unconditional = false;
        for (size_t k = n; k-- > 0 && !unconditional;) {
                const struct cella_device_rule *r = &rules[k];
                int32_t mask;
                if (access_mask(r->access, &mask) < 0) {
                        free(p);
                        return cella_error_set(err, EINVAL, "linux.resources.devices[%zu].access: invalid \"%s\"",
                                               k, r->access);
                }
                int32_t type;
                switch (r->type) {
                case 'a': type = 0; break;
                case 'c': type = BPF_DEVCG_DEV_CHAR; break;
                case 'b': type = BPF_DEVCG_DEV_BLOCK; break;
                default:
                        free(p);
                        return cella_error_set(err, EINVAL, "linux.resources.devices[%zu].type: unknown device type '%c'",
                                               k, r->type);
                }
                size_t start = len;
                if (type)
                        p[len++] = JNE_IMM(BPF_REG_2, type);
                if (mask != (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
                        p[len++] = MOV32_REG(BPF_REG_1, BPF_REG_3);
                        p[len++] = ALU32_IMM(BPF_AND, BPF_REG_1, mask);
                        p[len++] = JNE_REG(BPF_REG_1, BPF_REG_3);
                }
                if (type && r->major >= 0)
                        p[len++] = JNE_IMM(BPF_REG_4, (int32_t)r->major);
                if (type && r->minor >= 0)
                        p[len++] = JNE_IMM(BPF_REG_5, (int32_t)r->minor);
                p[len++] = MOV64_IMM(BPF_REG_0, r->allow ? 1 : 0);
                p[len++] = EXIT();
                /* every jump of this block goes to the next block */
                for (size_t j = start; j < len - 2; j++)
                        if (BPF_CLASS(p[j].code) == BPF_JMP)
                                p[j].off = (int16_t)(len - (j + 1));
                /* the verifier rejects unreachable code: nothing after a
                 * rule that always matches */
                unconditional = len - start == 2;
        }
        if (!unconditional) {
                p[len++] = MOV64_IMM(BPF_REG_0, 0);
                p[len++] = EXIT();
        }
        *out = p;
        *n_out = len;
        return 0;
}

static int bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

static int prog_load(const struct bpf_insn *insns, size_t n, struct cella_error *err)
{
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t)"Apache";
        strncpy(attr.prog_name, "cella_devices", sizeof attr.prog_name - 1);
        int fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0)
                return fd;
        int saved = errno;
        if (saved != EINVAL && saved != EACCES)
                return cella_error_set(err, saved, "bpf(BPF_PROG_LOAD) of the device filter");
        /* load again with the verifier log to say why */
        char log[4096] = "";
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = sizeof log;
        attr.log_level = 1;
        fd = bpf(BPF_PROG_LOAD, &attr);
        if (fd >= 0)
                return fd;
        for (char *c = log; *c; c++)
                if (*c == '\n')
                        *c = ' ';
        return cella_error_set(err, saved, "bpf(BPF_PROG_LOAD) of the device filter (verifier: %.400s)", log);
}

int cg_devices_attach(const char *dir, const struct cella_device_rule *rules, size_t n, struct cella_error *err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        size_t n_insns;
        int r = cg_devices_build(rules, n, &insns, &n_insns, err);
        if (r < 0)
                return r;
        _cleanup_close_ int prog = prog_load(insns, n_insns, err);
        if (prog < 0)
                return prog;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cella_error_sys(err, "open %s", dir);

        /* Programs attached by an earlier apply (update): detach them once
         * the new one is in place, so there is no moment without a filter. */
        uint32_t old_ids[64];
        union bpf_attr q;
        memset(&q, 0, sizeof q);
        q.query.target_fd = (uint32_t)dfd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uint64_t)(uintptr_t)old_ids;
        q.query.prog_cnt = ARRAY_SIZE(old_ids);
        uint32_t n_old = 0;
        if (bpf(BPF_PROG_QUERY, &q) == 0)
                n_old = q.query.prog_cnt;

        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.target_fd = (uint32_t)dfd;
        a.attach_bpf_fd = (uint32_t)prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf(BPF_PROG_ATTACH, &a) < 0)
                return cella_error_sys(err, "bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) on %s", dir);
        log_debug("cgroup: device filter (%zu rules, %zu insns) attached to %s", n, n_insns, dir);

        for (uint32_t i = 0; i < n_old; i++) {
                union bpf_attr g;
                memset(&g, 0, sizeof g);
                g.prog_id = old_ids[i];
                _cleanup_close_ int old = bpf(BPF_PROG_GET_FD_BY_ID, &g);
                if (old < 0)
                        continue;
                union bpf_attr d;
                memset(&d, 0, sizeof d);
                d.target_fd = (uint32_t)dfd;
                d.attach_bpf_fd = (uint32_t)old;
                d.attach_type = BPF_CGROUP_DEVICE;
                if (bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
                        return cella_error_sys(err, "bpf(BPF_PROG_DETACH) of the previous device filter on %s", dir);
        }
        return 0;
}
