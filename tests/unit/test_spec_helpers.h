/* SPDX-License-Identifier: Apache-2.0 */
/* What the spec parser unit tests share (test_spec*.c): JSON fixtures
 * are written with single quotes and turned into JSON by q(). */
#ifndef CELLA_TEST_SPEC_HELPERS_H
#define CELLA_TEST_SPEC_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/security.h"
#include "oci/spec.h"
#include "oci/spec_internal.h"
#include "base/util.h"
#include "tests/unit/unit.h"

#define UNIT_HELPER static __attribute__((unused))

UNIT_HELPER char *q(const char *s)
{
        char *r = xstrdup(s);
        for (char *p = r; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return r;
}

UNIT_HELPER struct cella_spec *parse_ok(const char *sq)
{
        _cleanup_free_ char *json = q(sq);
        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        int r = cella_spec_parse(json, strlen(json), "config.json", &s, &err);
        if (r < 0) {
                fprintf(stderr, "  unexpected error: %s\n", err.msg);
                unit_failures++;
                return NULL;
        }
        return s;
}

/* Parse and return the error message (static buffer), "" on success. */
UNIT_HELPER const char *parse_err(const char *sq)
{
        static struct cella_error err;
        _cleanup_free_ char *json = q(sq);
        struct cella_spec *s = NULL;
        cella_error_clear(&err);
        int r = cella_spec_parse(json, strlen(json), "config.json", &s, &err);
        if (r >= 0) {
                cella_spec_free(s);
                return "";
        }
        CHECK(r == -EINVAL);
        CHECK(s == NULL);
        return err.msg;
}

#define BASE "{'ociVersion':'1.2.0','root':{'path':'rootfs'}"

UNIT_HELPER uint64_t capbit(const char *name)
{
        return UINT64_C(1) << cella_capability_from_name(name);
}

static const char full_config[] __attribute__((unused)) =
        "{'ociVersion':'1.2.0',"
        " 'root':{'path':'/var/lib/x/rootfs','readonly':true},"
        " 'hostname':'box','domainname':'example.org',"
        " 'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
        "   'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,6,7]},"
        "   'args':['sh','-c','echo hi'],'env':['PATH=/bin','A=b=c'],'cwd':'/tmp',"
        "   'capabilities':{'bounding':['CAP_CHOWN','CAP_KILL','CAP_CHECKPOINT_RESTORE'],"
        "     'effective':['CAP_KILL'],'inheritable':['CAP_SYS_ADMIN'],"
        "     'permitted':['CAP_KILL','CAP_NET_RAW'],'ambient':['CAP_NET_BIND_SERVICE']},"
        "   'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
        "              {'type':'RLIMIT_CORE','soft':18446744073709551615,'hard':18446744073709551615}],"
        "   'noNewPrivileges':true,'oomScoreAdj':-500,"
        "   'apparmorProfile':'cella-default','selinuxLabel':'system_u:system_r:container_t:s0'},"
        " 'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
        "   {'destination':'/data','type':'bind','source':'/srv/data','options':['rbind','ro','rslave','nosuid']},"
        "   {'destination':'/dev/pts','type':'devpts','source':'devpts',"
        "     'options':['nosuid','noexec','newinstance','ptmxmode=0666','mode=0620','gid=5']},"
        "   {'destination':'/id','type':'none','source':'/src','options':['bind','idmap','rw','rro','rnoatime'],"
        "     'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
        "     'gidMappings':[{'containerID':0,'hostID':200000,'size':65536}]}],"
        " 'hooks':{'prestart':[{'path':'/bin/true','args':['true','x'],'env':['A=1'],'timeout':5}],"
        "   'createRuntime':[{'path':'/bin/a'},{'path':'/bin/b'}],"
        "   'createContainer':[{'path':'/bin/c'}],'startContainer':[{'path':'/bin/d'}],"
        "   'poststart':[{'path':'/bin/e'}],'poststop':[{'path':'/bin/f'}]},"
        " 'annotations':{'org.example.a':'1','b':'two'},"
        " 'linux':{"
        "   'namespaces':[{'type':'pid'},{'type':'network','path':'/proc/1/ns/net'},{'type':'ipc'},"
        "     {'type':'uts'},{'type':'mount'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
        "   'uidMappings':[{'containerID':0,'hostID':1000,'size':1},{'containerID':1,'hostID':100000,'size':65535}],"
        "   'gidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
        "   'timeOffsets':{'monotonic':{'secs':-10,'nanosecs':5},'boottime':{'secs':3600}},"
        "   'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,'uid':0,'gid':0},"
        "     {'path':'/dev/fifo','type':'p'}],"
        "   'cgroupsPath':'/cella/box',"
        "   'resources':{"
        "     'memory':{'limit':536870912,'reservation':268435456,'swap':-1,'kernel':1,'kernelTCP':2,"
        "       'swappiness':60,'disableOOMKiller':true,'useHierarchy':true,'checkBeforeUpdate':true},"
        "     'cpu':{'shares':1024,'quota':50000,'period':100000,'burst':1000,'realtimeRuntime':950000,"
        "       'realtimePeriod':1000000,'cpus':'0-1','mems':'0','idle':1},"
        "     'pids':{'limit':64},"
        "     'blockIO':{'weight':500,'leafWeight':300,"
        "       'weightDevice':[{'major':8,'minor':0,'weight':600,'leafWeight':100},{'major':8,'minor':16}],"
        "       'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
        "       'throttleWriteBpsDevice':[{'major':8,'minor':0,'rate':2097152}],"
        "       'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':100}],"
        "       'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':200},{'major':8,'minor':16,'rate':300}]},"
        "     'hugepageLimits':[{'pageSize':'2MB','limit':209715200}],"
        "     'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
        "     'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000}},"
        "     'unified':{'memory.high':'max','io.weight':'default 100'},"
        "     'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}]},"
        "   'sysctl':{'net.ipv4.ip_forward':'1','kernel.shmmax':'4096'},"
        "   'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,"
        "     'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86'],'flags':['SECCOMP_FILTER_FLAG_LOG'],"
        "     'listenerPath':'/run/agent.sock','listenerMetadata':'meta',"
        "     'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW'},"
        "       {'names':['personality'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':8,'op':'SCMP_CMP_EQ'},"
        "          {'index':1,'value':18446744073709551615,'valueTwo':7,'op':'SCMP_CMP_MASKED_EQ'}]},"
        "       {'names':['mkdir'],'action':'SCMP_ACT_ERRNO','errnoRet':38},"
        "       {'names':['ptrace'],'action':'SCMP_ACT_NOTIFY'}]},"
        "   'rootfsPropagation':'rslave',"
        "   'maskedPaths':['/proc/kcore','/proc/keys'],'readonlyPaths':['/proc/sys'],"
        "   'mountLabel':'system_u:object_r:container_file_t:s0',"
        "   'personality':{'domain':'LINUX32'},"
        "   'intelRdt':{'closID':'x'}, 'memoryPolicy':{'mode':'MPOL_BIND'}"
        " }}";

UNIT_HELPER void check_full_process(const struct cella_process *p)
{
        CHECK(p->terminal);
        CHECK(p->has_console_size && p->console_height == 25 && p->console_width == 80);
        CHECK(p->user.uid == 1000 && p->user.gid == 1001);
        CHECK(p->user.umask.set && p->user.umask.value == 022);
        CHECK(p->user.n_additional_gids == 3 && p->user.additional_gids[0] == 5 &&
              p->user.additional_gids[2] == 7);
        CHECK(p->args.n == 3 && p->args.v[3] == NULL);
        CHECK_STREQ(p->args.v[2], "echo hi");
        CHECK(p->env.n == 2);
        CHECK_STREQ(p->env.v[1], "A=b=c");
        CHECK_STREQ(p->cwd, "/tmp");
        CHECK(p->capabilities.present);
        CHECK(p->capabilities.bounding ==
              (capbit("CAP_CHOWN") | capbit("CAP_KILL") | (UINT64_C(1) << 40)));
        CHECK(p->capabilities.effective == capbit("CAP_KILL"));
        CHECK(p->capabilities.inheritable == capbit("CAP_SYS_ADMIN"));
        CHECK(p->capabilities.permitted == (capbit("CAP_KILL") | capbit("CAP_NET_RAW")));
        CHECK(p->capabilities.ambient == capbit("CAP_NET_BIND_SERVICE"));
        CHECK(p->n_rlimits == 2);
        CHECK(p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 &&
              p->rlimits[0].hard == 4096);
        CHECK_STREQ(p->rlimits[0].type, "RLIMIT_NOFILE");
        CHECK(p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].hard == UINT64_MAX);
        CHECK(p->no_new_privileges);
        CHECK(p->oom_score_adj.set && p->oom_score_adj.value == -500);
        CHECK_STREQ(p->apparmor_profile, "cella-default");
        CHECK_STREQ(p->selinux_label, "system_u:system_r:container_t:s0");
}

UNIT_HELPER void check_full_resources(const struct cella_resources *r)
{
        CHECK(r->memory.limit.set && r->memory.limit.value == 536870912);
        CHECK(r->memory.reservation.set && r->memory.reservation.value == 268435456);
        CHECK(r->memory.swap.set && r->memory.swap.value == -1);
        CHECK(r->memory.kernel.value == 1 && r->memory.kernel_tcp.value == 2);
        CHECK(r->memory.swappiness.set && r->memory.swappiness.value == 60);
        CHECK(r->memory.disable_oom_killer && r->memory.use_hierarchy &&
              r->memory.check_before_update);
        CHECK(r->cpu.shares.value == 1024 && r->cpu.quota.value == 50000 &&
              r->cpu.period.value == 100000 && r->cpu.burst.value == 1000);
        CHECK(r->cpu.realtime_runtime.value == 950000 && r->cpu.realtime_period.value == 1000000);
        CHECK_STREQ(r->cpu.cpus, "0-1");
        CHECK_STREQ(r->cpu.mems, "0");
        CHECK(r->cpu.idle.set && r->cpu.idle.value == 1);
        CHECK(r->pids.limit.set && r->pids.limit.value == 64);
        CHECK(r->block_io.weight.value == 500 && r->block_io.leaf_weight.value == 300);
        CHECK(r->block_io.n_weight_device == 2);
        CHECK(r->block_io.weight_device[0].major == 8 && r->block_io.weight_device[0].weight.value == 600 &&
              r->block_io.weight_device[0].leaf_weight.value == 100);
        CHECK(r->block_io.weight_device[1].minor == 16 && !r->block_io.weight_device[1].weight.set);
        CHECK(r->block_io.n_throttle_read_bps == 1 && r->block_io.throttle_read_bps[0].rate == 1048576);
        CHECK(r->block_io.n_throttle_write_bps == 1 && r->block_io.throttle_write_bps[0].rate == 2097152);
        CHECK(r->block_io.n_throttle_read_iops == 1 && r->block_io.throttle_read_iops[0].rate == 100);
        CHECK(r->block_io.n_throttle_write_iops == 2 && r->block_io.throttle_write_iops[1].rate == 300);
        CHECK(r->n_hugepage_limits == 1 && r->hugepage_limits[0].limit == 209715200);
        CHECK_STREQ(r->hugepage_limits[0].page_size, "2MB");
        CHECK(r->network.class_id.set && r->network.class_id.value == 1048577);
        CHECK(r->network.n_priorities == 1 && r->network.priorities[0].priority == 500);
        CHECK_STREQ(r->network.priorities[0].name, "eth0");
        CHECK(r->n_rdma == 1 && r->rdma[0].hca_handles.value == 3 && r->rdma[0].hca_objects.value == 10000);
        CHECK_STREQ(r->rdma[0].device, "mlx5_1");
        CHECK(r->unified.n == 2);
        CHECK_STREQ(r->unified.v[1].key, "io.weight");
        CHECK_STREQ(r->unified.v[1].value, "default 100");
        CHECK(r->n_devices == 2);
        CHECK(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 &&
              r->devices[0].minor == -1);
        CHECK_STREQ(r->devices[0].access, "rwm");
        CHECK(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 1 &&
              r->devices[1].minor == 3);
        CHECK_STREQ(r->devices[1].access, "rw");
}

#endif
