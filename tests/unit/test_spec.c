/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the OCI config parser (oci/spec*.c). JSON fixtures
 * are written with single quotes and turned into JSON by q(). */
#include "tests/unit/test_spec_helpers.h"

static void test_minimal(void)
{
        struct cella_spec *s = parse_ok(BASE "}");
        if (!s)
                return;
        CHECK_STREQ(s->oci_version, "1.2.0");
        CHECK_STREQ(s->root_path, "rootfs");
        CHECK(!s->root_readonly);
        CHECK(!s->has_process);
        CHECK(s->hostname == NULL);
        CHECK(s->n_mounts == 0 && s->mounts == NULL);
        CHECK(s->annotations.n == 0);
        for (int k = 0; k < CELLA_HOOK__COUNT; k++)
                CHECK(s->hooks[k].n == 0);
        for (int t = 0; t < CELLA_NS__COUNT; t++)
                CHECK(!s->linux_.namespaces[t].present);
        CHECK(!s->linux_.has_resources);
        CHECK(!s->linux_.seccomp.present);
        CHECK(s->linux_.cgroups_path == NULL);
        cella_spec_free(s);
}

static void test_full(void)
{
        struct cella_spec *s = parse_ok(full_config);
        if (!s)
                return;
        CHECK_STREQ(s->root_path, "/var/lib/x/rootfs");
        CHECK(s->root_readonly);
        CHECK_STREQ(s->hostname, "box");
        CHECK_STREQ(s->domainname, "example.org");
        CHECK(s->has_process);
        check_full_process(&s->process);

        CHECK(s->n_mounts == 4);
        const struct cella_mount *m = &s->mounts[0];
        CHECK_STREQ(m->destination, "/proc");
        CHECK_STREQ(m->type, "proc");
        CHECK(m->options.n == 0 && m->flags == 0 && !m->bind && m->data == NULL);
        m = &s->mounts[1];
        CHECK(m->bind && m->recursive_bind);
        CHECK(m->flags == (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID));
        CHECK(m->propagation == (MS_SLAVE | MS_REC));
        CHECK(m->data == NULL);
        m = &s->mounts[2];
        CHECK(m->flags == (MS_NOSUID | MS_NOEXEC));
        CHECK_STREQ(m->data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        CHECK(m->options.n == 6);
        m = &s->mounts[3];
        CHECK(m->bind && !m->recursive_bind && m->flags == MS_BIND);
        CHECK(m->clear_flags == MS_RDONLY);
        CHECK(m->attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME));
        CHECK(m->attr_clr == MOUNT_ATTR__ATIME);
        CHECK(m->data == NULL);
        CHECK(m->n_uid_mappings == 1 && m->uid_mappings[0].host_id == 100000 &&
              m->uid_mappings[0].size == 65536);
        CHECK(m->n_gid_mappings == 1 && m->gid_mappings[0].host_id == 200000);

        CHECK(s->hooks[CELLA_HOOK_PRESTART].n == 1);
        const struct cella_hook *h = &s->hooks[CELLA_HOOK_PRESTART].v[0];
        CHECK_STREQ(h->path, "/bin/true");
        CHECK(h->args.n == 2 && h->env.n == 1 && h->timeout == 5);
        CHECK(s->hooks[CELLA_HOOK_CREATE_RUNTIME].n == 2);
        CHECK_STREQ(s->hooks[CELLA_HOOK_CREATE_RUNTIME].v[1].path, "/bin/b");
        CHECK(s->hooks[CELLA_HOOK_CREATE_RUNTIME].v[1].timeout == 0);
        CHECK_STREQ(s->hooks[CELLA_HOOK_CREATE_CONTAINER].v[0].path, "/bin/c");
        CHECK_STREQ(s->hooks[CELLA_HOOK_START_CONTAINER].v[0].path, "/bin/d");
        CHECK_STREQ(s->hooks[CELLA_HOOK_POSTSTART].v[0].path, "/bin/e");
        CHECK_STREQ(s->hooks[CELLA_HOOK_POSTSTOP].v[0].path, "/bin/f");

        CHECK(s->annotations.n == 2);
        CHECK_STREQ(s->annotations.v[0].key, "org.example.a");
        CHECK_STREQ(s->annotations.v[1].value, "two");

        const struct cella_linux *lx = &s->linux_;
        for (int t = 0; t < CELLA_NS__COUNT; t++)
                CHECK(lx->namespaces[t].present);
        CHECK_STREQ(lx->namespaces[CELLA_NS_NET].path, "/proc/1/ns/net");
        CHECK(lx->namespaces[CELLA_NS_PID].path == NULL);
        CHECK(lx->n_uid_mappings == 2 && lx->uid_mappings[1].container_id == 1 &&
              lx->uid_mappings[1].host_id == 100000 && lx->uid_mappings[1].size == 65535);
        CHECK(lx->n_gid_mappings == 1);
        CHECK(lx->time_monotonic.set && lx->time_monotonic.secs == -10 &&
              lx->time_monotonic.nanosecs == 5);
        CHECK(lx->time_boottime.set && lx->time_boottime.secs == 3600);
        CHECK(lx->n_devices == 2);
        CHECK_STREQ(lx->devices[0].path, "/dev/fuse");
        CHECK(lx->devices[0].type == 'c' && lx->devices[0].major == 10 && lx->devices[0].minor == 229);
        CHECK(lx->devices[0].file_mode.set && lx->devices[0].file_mode.value == 0666);
        CHECK(lx->devices[0].uid.set && lx->devices[0].gid.set);
        CHECK(lx->devices[1].type == 'p' && !lx->devices[1].file_mode.set);
        CHECK_STREQ(lx->cgroups_path, "/cella/box");
        CHECK(lx->has_resources);
        check_full_resources(&lx->resources);
        CHECK(lx->sysctl.n == 2);
        CHECK_STREQ(lx->sysctl.v[0].key, "net.ipv4.ip_forward");
        CHECK_STREQ(lx->sysctl.v[0].value, "1");

        const struct cella_seccomp *sc = &lx->seccomp;
        CHECK(sc->present);
        CHECK(sc->default_action == CELLA_SECCOMP_ERRNO);
        CHECK(sc->default_errno_ret.set && sc->default_errno_ret.value == 1);
        CHECK(sc->architectures.n == 2);
        CHECK_STREQ(sc->architectures.v[0], "SCMP_ARCH_X86_64");
        CHECK(sc->flags.n == 1);
        CHECK_STREQ(sc->listener_path, "/run/agent.sock");
        CHECK_STREQ(sc->listener_metadata, "meta");
        CHECK(sc->n_syscalls == 4);
        CHECK(sc->syscalls[0].names.n == 2 && sc->syscalls[0].action == CELLA_SECCOMP_ALLOW);
        CHECK(sc->syscalls[1].n_args == 2);
        CHECK(sc->syscalls[1].args[0].index == 0 && sc->syscalls[1].args[0].value == 8 &&
              sc->syscalls[1].args[0].op == CELLA_SECCOMP_OP_EQ);
        CHECK(sc->syscalls[1].args[1].value == UINT64_MAX && sc->syscalls[1].args[1].value_two == 7 &&
              sc->syscalls[1].args[1].op == CELLA_SECCOMP_OP_MASKED_EQ);
        CHECK(sc->syscalls[2].errno_ret.set && sc->syscalls[2].errno_ret.value == 38);
        CHECK(!sc->syscalls[0].errno_ret.set);
        CHECK(sc->syscalls[3].action == CELLA_SECCOMP_NOTIFY);
        CHECK(sc->source_json && str_has_prefix(sc->source_json,
                                                "{\"defaultAction\":\"SCMP_ACT_ERRNO\","));
        CHECK(sc->source_json && strstr(sc->source_json, "18446744073709551615"));

        CHECK_STREQ(lx->rootfs_propagation, "rslave");
        CHECK(lx->rootfs_propagation_flags == (MS_SLAVE | MS_REC));
        CHECK(lx->masked_paths.n == 2 && lx->masked_paths.v[2] == NULL);
        CHECK_STREQ(lx->readonly_paths.v[0], "/proc/sys");
        CHECK_STREQ(lx->mount_label, "system_u:object_r:container_file_t:s0");
        CHECK(lx->has_personality && lx->personality == PER_LINUX32);
        cella_spec_free(s);
}

static void test_unknown_keys_and_nulls(void)
{
        struct cella_spec *s = parse_ok(
                BASE ",'future':{'x':[1,2,{}]},'process':{'args':['a'],'newThing':true,"
                "'user':{'uid':1,'gid':2,'username':'x'},'oomScoreAdj':null},"
                "'hostname':null,'linux':{'newKnob':1,'resources':{'memory':{'limit':null,'z':1}}}}");
        if (!s)
                return;
        CHECK(s->process.user.uid == 1);
        CHECK(!s->process.oom_score_adj.set);
        CHECK(s->hostname == NULL);
        CHECK(s->linux_.has_resources && !s->linux_.resources.memory.limit.set);
        CHECK_STREQ(s->process.cwd, "/");
        cella_spec_free(s);
}

struct bad_case {
        const char *json;
        const char *msg;
};

static const struct bad_case bad_cases[] = {
        { "[1]", "config.json: expected a JSON object" },
        { "{'root':{'path':'r'}}", "config.json: ociVersion: required" },
        { "{'ociVersion':1,'root':{'path':'r'}}", "config.json: ociVersion: expected string" },
        { "{'ociVersion':'1.2.0'}", "config.json: root: required" },
        { "{'ociVersion':'1.2.0','root':[]}", "config.json: root: expected object" },
        { "{'ociVersion':'1.2.0','root':{}}", "config.json: root.path: required" },
        { "{'ociVersion':'1.2.0','root':{'path':''}}", "config.json: root.path: must not be empty" },
        { BASE ",'root':{'path':'r','readonly':'yes'}}", "config.json: root.readonly: expected boolean" },
        { BASE ",'process':[]}", "config.json: process: expected object" },
        { BASE ",'process':{}}", "config.json: process.args: required" },
        { BASE ",'process':{'args':[]}}", "config.json: process.args: must not be empty" },
        { BASE ",'process':{'args':['sh',1]}}", "config.json: process.args[1]: expected string" },
        { BASE ",'process':{'args':'sh'}}", "config.json: process.args: expected array" },
        { BASE ",'process':{'args':['sh'],'cwd':'tmp'}}",
          "config.json: process.cwd: \"tmp\" is not an absolute path" },
        { BASE ",'process':{'args':['sh'],'env':['PATH=/bin','NOEQUALS']}}",
          "config.json: process.env[1]: \"NOEQUALS\" is not NAME=VALUE" },
        { BASE ",'process':{'args':['sh'],'terminal':1}}", "config.json: process.terminal: expected boolean" },
        { BASE ",'process':{'args':['sh'],'user':{'uid':-1}}}",
          "config.json: process.user.uid: expected non-negative integer, got -1" },
        { BASE ",'process':{'args':['sh'],'user':{'uid':4294967296}}}",
          "config.json: process.user.uid: integer 4294967296 out of range" },
        { BASE ",'process':{'args':['sh'],'user':{'gid':1.5}}}", "config.json: process.user.gid: expected integer" },
        { BASE ",'process':{'args':['sh'],'user':{'additionalGids':[1,'x']}}}",
          "config.json: process.user.additionalGids[1]: expected integer" },
        { BASE ",'process':{'args':['sh'],'user':{'umask':1024}}}", "config.json: process.user.umask: invalid umask" },
        { BASE ",'process':{'args':['sh'],'consoleSize':{'height':'x'}}}",
          "config.json: process.consoleSize.height: expected integer" },
        { BASE ",'process':{'args':['sh'],'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN','CAP_SYS_ADMIN','CAP_FOO']}}}",
          "config.json: process.capabilities.bounding[3]: unknown capability \"CAP_FOO\"" },
        { BASE ",'process':{'args':['sh'],'capabilities':{'ambient':[7]}}}",
          "config.json: process.capabilities.ambient[0]: expected string" },
        { BASE ",'process':{'args':['sh'],'capabilities':{'effective':'CAP_KILL'}}}",
          "config.json: process.capabilities.effective: expected array" },
        { BASE ",'process':{'args':['sh'],'rlimits':[{'type':'RLIMIT_BOGUS','soft':1,'hard':1}]}}",
          "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"" },
        { BASE ",'process':{'args':['sh'],'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]}}",
          "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"" },
        { BASE ",'process':{'args':['sh'],'rlimits':[{'type':'RLIMIT_NOFILE','hard':1}]}}",
          "config.json: process.rlimits[0].soft: required" },
        { BASE ",'process':{'args':['sh'],'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':1}]}}",
          "config.json: process.rlimits[0].soft: expected non-negative integer" },
        { BASE ",'process':{'args':['sh'],'rlimits':[{'type':'RLIMIT_NOFILE','soft':2,'hard':1}]}}",
          "config.json: process.rlimits[0]: soft limit 2 exceeds hard limit 1" },
        { BASE ",'process':{'args':['sh'],'oomScoreAdj':1001}}",
          "config.json: process.oomScoreAdj: 1001 out of range [-1000, 1000]" },
        { BASE ",'process':{'args':['sh'],'apparmorProfile':false}}",
          "config.json: process.apparmorProfile: expected string" },
        { BASE ",'hostname':'h'}", "config.json: hostname: unable to set hostname without a private UTS namespace" },
        { BASE ",'domainname':'d'}",
          "config.json: domainname: unable to set domainname without a private UTS namespace" },
        { BASE ",'hostname':5,'linux':{'namespaces':[{'type':'uts'}]}}", "config.json: hostname: expected string" },
        { BASE ",'mounts':{}}", "config.json: mounts: expected array" },
        { BASE ",'mounts':[{'destination':'/a'},{'type':'tmpfs'}]}", "config.json: mounts[1].destination: required" },
        { BASE ",'mounts':[{'destination':''}]}", "config.json: mounts[0].destination: must not be empty" },
        { BASE ",'mounts':[{'destination':'/a','options':['ro',3]}]}", "config.json: mounts[0].options[1]: expected string" },
        { BASE ",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':1,'size':1}]}]}",
          "config.json: mounts[0].uidMappings: must be given with gidMappings" },
        { BASE ",'mounts':[{'destination':'/a','options':['rbind']}]}",
          "config.json: mounts[0].source: required for a bind mount" },
        { BASE ",'mounts':[{'destination':'/a','type':'bind'}]}",
          "config.json: mounts[0].source: required for a bind mount" },
        { BASE ",'mounts':[{'destination':'/a','source':7}]}", "config.json: mounts[0].source: expected string" },
        { BASE ",'hooks':{'prestart':[{'args':['x']}]}}", "config.json: hooks.prestart[0].path: required" },
        { BASE ",'hooks':{'poststop':[{'path':'rel/hook'}]}}",
          "config.json: hooks.poststop[0].path: \"rel/hook\" is not an absolute path" },
        { BASE ",'hooks':{'createRuntime':[{'path':'/h','timeout':0}]}}",
          "config.json: hooks.createRuntime[0].timeout: 0 out of range [1, 2147483647]" },
        { BASE ",'hooks':{'poststart':{}}}", "config.json: hooks.poststart: expected array" },
        { BASE ",'annotations':{'a':'1','b':2}}", "config.json: annotations.b: expected string" },
        { BASE ",'annotations':{'org.example/x':[]}}", "config.json: annotations[\"org.example/x\"]: expected string" },
        { BASE ",'linux':[]}", "config.json: linux: expected object" },
        { BASE ",'linux':{'namespaces':[{'type':'pid'},{'type':'uts'},{'type':'foo'}]}}",
          "config.json: linux.namespaces[2].type: unknown namespace \"foo\"" },
        { BASE ",'linux':{'namespaces':[{'type':'pid'},{'type':'pid'}]}}",
          "config.json: linux.namespaces[1].type: duplicate namespace \"pid\"" },
        { BASE ",'linux':{'namespaces':[{}]}}", "config.json: linux.namespaces[0].type: required" },
        { BASE ",'linux':{'namespaces':[{'type':'net','path':'x'}]}}",
          "config.json: linux.namespaces[0].type: unknown namespace \"net\"" },
        { BASE ",'linux':{'namespaces':[{'type':'network','path':'proc/1/ns/net'}]}}",
          "config.json: linux.namespaces[0].path: \"proc/1/ns/net\" is not an absolute path" },
        { BASE ",'linux':{'uidMappings':[{'containerID':0,'hostID':1000,'size':1}]}}",
          "config.json: linux.uidMappings: user namespace mappings specified, but user namespace isn't enabled in the config" },
        { BASE ",'linux':{'namespaces':[{'type':'user'}],'gidMappings':[{'containerID':0,'hostID':1000}]}}",
          "config.json: linux.gidMappings[0].size: required" },
        { BASE ",'linux':{'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1,'size':0}]}}",
          "config.json: linux.uidMappings[0].size: must be positive" },
        { BASE ",'linux':{'timeOffsets':{'monotonic':{'secs':1}}}}",
          "config.json: linux.timeOffsets: time namespace offsets specified, but time namespace isn't enabled in the config" },
        { BASE ",'linux':{'namespaces':[{'type':'time'}],'timeOffsets':{'realtime':{'secs':1}}}}",
          "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\"" },
        { BASE ",'linux':{'devices':[{'path':'/dev/x','type':'z','major':1,'minor':1}]}}",
          "config.json: linux.devices[0].type: unknown device type \"z\"" },
        { BASE ",'linux':{'devices':[{'path':'/dev/x','type':'c','minor':1}]}}",
          "config.json: linux.devices[0].major: required" },
        { BASE ",'linux':{'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]}}",
          "config.json: linux.devices[0].path: \"dev/x\" is not an absolute path" },
        { BASE ",'linux':{'devices':[{'path':'/dev/x','type':'c','major':1,'minor':1,'fileMode':65535}]}}",
          "config.json: linux.devices[0].fileMode: invalid mode" },
        { BASE ",'linux':{'cgroupsPath':1}}", "config.json: linux.cgroupsPath: expected string" },
        { BASE ",'linux':{'resources':{'memory':{'limit':'1G'}}}}",
          "config.json: linux.resources.memory.limit: expected integer" },
        { BASE ",'linux':{'resources':{'memory':{'limit':1e9}}}}",
          "config.json: linux.resources.memory.limit: expected integer" },
        { BASE ",'linux':{'resources':{'memory':{'limit':99999999999999999999}}}}",
          "config.json: linux.resources.memory.limit: integer 99999999999999999999 out of range" },
        { BASE ",'linux':{'resources':{'memory':{'swappiness':101}}}}",
          "config.json: linux.resources.memory.swappiness: 101 out of range [0, 100]" },
        { BASE ",'linux':{'resources':{'memory':{'disableOOMKiller':'no'}}}}",
          "config.json: linux.resources.memory.disableOOMKiller: expected boolean" },
        { BASE ",'linux':{'resources':{'cpu':{'shares':-2}}}}",
          "config.json: linux.resources.cpu.shares: expected non-negative integer, got -2" },
        { BASE ",'linux':{'resources':{'cpu':{'cpus':0}}}}", "config.json: linux.resources.cpu.cpus: expected string" },
        { BASE ",'linux':{'resources':{'pids':{'limit':true}}}}", "config.json: linux.resources.pids.limit: expected integer" },
        { BASE ",'linux':{'resources':{'blockIO':{'weight':70000}}}}",
          "config.json: linux.resources.blockIO.weight: 70000 out of range [0, 65535]" },
        { BASE ",'linux':{'resources':{'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}}}}",
          "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: required" },
        { BASE ",'linux':{'resources':{'blockIO':{'weightDevice':[{'minor':0}]}}}}",
          "config.json: linux.resources.blockIO.weightDevice[0].major: required" },
        { BASE ",'linux':{'resources':{'hugepageLimits':[{'limit':1}]}}}",
          "config.json: linux.resources.hugepageLimits[0].pageSize: required" },
        { BASE ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'64kB','limit':1}]}}}",
          "config.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"64kB\"" },
        { BASE ",'linux':{'resources':{'hugepageLimits':[{'pageSize':'02MB','limit':1}]}}}",
          "config.json: linux.resources.hugepageLimits[0].pageSize: invalid page size \"02MB\"" },
        { BASE ",'linux':{'resources':{'network':{'priorities':[{'name':'eth0','priority':'x'}]}}}}",
          "config.json: linux.resources.network.priorities[0].priority: expected integer" },
        { BASE ",'linux':{'resources':{'rdma':{'mlx':{'hcaHandles':-1}}}}}",
          "config.json: linux.resources.rdma.mlx.hcaHandles: expected non-negative integer" },
        { BASE ",'linux':{'resources':{'unified':{'memory.max':1}}}}",
          "config.json: linux.resources.unified[\"memory.max\"]: expected string" },
        { BASE ",'linux':{'resources':{'devices':[{'access':'rwm'}]}}}",
          "config.json: linux.resources.devices[0].allow: required" },
        { BASE ",'linux':{'resources':{'devices':[{'allow':true,'type':'p'}]}}}",
          "config.json: linux.resources.devices[0].type: unknown device type \"p\"" },
        { BASE ",'linux':{'resources':{'devices':[{'allow':true,'access':'rwx'}]}}}",
          "config.json: linux.resources.devices[0].access: invalid access \"rwx\"" },
        { BASE ",'linux':{'resources':{'devices':[{'allow':true,'access':'rr'}]}}}",
          "config.json: linux.resources.devices[0].access: invalid access \"rr\"" },
        { BASE ",'linux':{'sysctl':{'net.ipv4.ip_forward':1}}}",
          "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: expected string" },
        { BASE ",'linux':{'sysctl':{'net.ipv4.ip_forward':'1'}}}",
          "config.json: linux.sysctl[\"net.ipv4.ip_forward\"]: sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace" },
        { BASE ",'linux':{'sysctl':{'net/ipv4/conf/eth0.1/forwarding':'1'}}}",
          "config.json: linux.sysctl[\"net/ipv4/conf/eth0.1/forwarding\"]: sysctl \"net.ipv4.conf.eth0/1.forwarding\" not allowed in host network namespace" },
        { BASE ",'linux':{'namespaces':[{'type':'network'}],'sysctl':{'kernel.shmmax':'1'}}}",
          "config.json: linux.sysctl[\"kernel.shmmax\"]: sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace" },
        { BASE ",'linux':{'sysctl':{'fs.mqueue.msg_max':'1'}}}",
          "config.json: linux.sysctl[\"fs.mqueue.msg_max\"]: sysctl \"fs.mqueue.msg_max\" is not allowed in the hosts ipc namespace" },
        { BASE ",'linux':{'namespaces':[{'type':'uts'}],'sysctl':{'kernel.hostname':'x'}}}",
          "config.json: linux.sysctl[\"kernel.hostname\"]: sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI \"hostname\" field" },
        { BASE ",'linux':{'sysctl':{'kernel.domainname':'x'}}}",
          "config.json: linux.sysctl[\"kernel.domainname\"]: sysctl \"kernel.domainname\" is not in a separate kernel namespace" },
        { BASE ",'linux':{'sysctl':{'user.max_user_namespaces':'0'}}}",
          "config.json: linux.sysctl[\"user.max_user_namespaces\"]: setting ucounts without a user namespace not allowed: user.max_user_namespaces" },
        { BASE ",'linux':{'namespaces':[{'type':'network'},{'type':'ipc'},{'type':'uts'}],'sysctl':{'vm.swappiness':'1'}}}",
          "config.json: linux.sysctl[\"vm.swappiness\"]: sysctl \"vm.swappiness\" is not in a separate kernel namespace" },
        { BASE ",'linux':{'namespaces':[{'type':'user'}]}}",
          "config.json: linux.namespaces: user namespaces enabled, but no namespace path to join nor mappings to apply specified" },
        { BASE ",'linux':{'seccomp':{}}}", "config.json: linux.seccomp.defaultAction: required" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_MAYBE'}}}",
          "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\"" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_NOTIFY'}}}",
          "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1}}}",
          "config.json: linux.seccomp.defaultErrnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_Z80']}}}",
          "config.json: linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_X']}}}",
          "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_X\"" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','listenerMetadata':'m'}}}",
          "config.json: linux.seccomp.listenerMetadata: set without listenerPath" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[],'action':'SCMP_ACT_ERRNO'}]}}}",
          "config.json: linux.seccomp.syscalls[0].names: must not be empty" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read']}]}}}",
          "config.json: linux.seccomp.syscalls[0].action: required" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_KILL','errnoRet':1}]}}}",
          "config.json: linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'SCMP_CMP_XX'}]}]}}}",
          "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_XX\"" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]}}}",
          "config.json: linux.seccomp.syscalls[0].args[0].index: 6 out of range [0, 5]" },
        { BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]}}}",
          "config.json: linux.seccomp.syscalls[0].args[0].value: required" },
        { BASE ",'linux':{'rootfsPropagation':'sideways'}}",
          "config.json: linux.rootfsPropagation: unknown propagation \"sideways\"" },
        { BASE ",'linux':{'maskedPaths':['/proc/kcore','proc/keys']}}",
          "config.json: linux.maskedPaths[1]: \"proc/keys\" is not an absolute path" },
        { BASE ",'linux':{'readonlyPaths':[1]}}", "config.json: linux.readonlyPaths[0]: expected string" },
        { BASE ",'linux':{'mountLabel':[]}}", "config.json: linux.mountLabel: expected string" },
        { BASE ",'linux':{'personality':{'domain':'LINUX64'}}}",
          "config.json: linux.personality.domain: unknown personality domain \"LINUX64\"" },
        { BASE ",'linux':{'personality':{'domain':'LINUX','flags':['X']}}}",
          "config.json: linux.personality.flags[0]: unsupported personality flag \"X\"" },
        { BASE ",'linux':{'personality':{}}}", "config.json: linux.personality.domain: required" },
};

static void test_errors(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
                const char *msg = parse_err(bad_cases[i].json);
                if (!str_has_prefix(msg, bad_cases[i].msg) || !msg[0]) {
                        fprintf(stderr, "  case %zu: got \"%s\"\n  want prefix \"%s\"\n", i, msg,
                                bad_cases[i].msg);
                        unit_failures++;
                }
        }
}

static void test_malformed_json(void)
{
        const char *msg = parse_err(BASE ",");
        CHECK(str_has_prefix(msg, "config.json: "));
        CHECK(strstr(msg, "parse error") != NULL);
        CHECK(strchr(msg, '\n') == NULL);
        msg = parse_err("");
        CHECK(str_has_prefix(msg, "config.json: "));

        struct cella_error err = { 0 };
        struct cella_spec *s = NULL;
        CHECK(cella_spec_parse("{\"a\":1}\0x", 9, "c.json", &s, &err) < 0);
        CHECK(str_has_prefix(err.msg, "c.json: parse error: "));
        CHECK(cella_spec_parse("{\"a\":\"\0\"}", 9, "c.json", &s, &err) < 0);
        CHECK_STREQ(err.msg, "c.json: lexical error: invalid character inside string.");
        /* not NUL-terminated within len: only len bytes are read */
        _cleanup_free_ char *json = q(BASE "}garbage");
        CHECK(cella_spec_parse(json, strlen(json) - 7, "c.json", &s, &err) == 0);
        cella_spec_free(s);
}

static void test_sysctl_and_userns_ok(void)
{
        struct cella_spec *s = parse_ok(
                BASE ",'linux':{'namespaces':[{'type':'network'},{'type':'ipc'},{'type':'uts'},"
                "{'type':'user','path':'/proc/1/ns/user'}],"
                "'sysctl':{'net.core.somaxconn':'1024','kernel.msgmax':'8192','net/ipv4/ip_forward':'1',"
                "'fs.mqueue.queues_max':'10','kernel.domainname':'x','user.max_user_namespaces':'5'}}}");
        if (s) {
                CHECK(s->linux_.sysctl.n == 6);
                CHECK_STREQ(s->linux_.sysctl.v[2].key, "net/ipv4/ip_forward");
                CHECK_STREQ(s->linux_.namespaces[CELLA_NS_USER].path, "/proc/1/ns/user");
                cella_spec_free(s);
        }
}

static void test_relative_mount_destination(void)
{
        struct cella_spec *s = parse_ok(BASE ",'mounts':[{'destination':'data','type':'bind','source':'/x'}]}");
        if (!s)
                return;
        CHECK_STREQ(s->mounts[0].destination, "/data");
        CHECK(s->mounts[0].bind && !s->mounts[0].recursive_bind);
        CHECK(s->mounts[0].flags == MS_BIND);
        cella_spec_free(s);
}

static const struct cella_mount *one_mount(struct cella_spec **s, const char *opts)
{
        char buf[1024];
        snprintf(buf, sizeof buf, BASE ",'mounts':[{'destination':'/m','type':'tmpfs','source':'/s','options':[%s]}]}", opts);
        *s = parse_ok(buf);
        return *s ? &(*s)->mounts[0] : NULL;
}

static void test_mount_options(void)
{
        struct cella_spec *s;
        const struct cella_mount *m;

        if ((m = one_mount(&s, "'ro','nosuid','nodev','noexec','sync','dirsync','remount','mand','noatime','nodiratime','relatime','strictatime'"))) {
                CHECK(m->flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS |
                                   MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK | MS_NOATIME |
                                   MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME));
                CHECK(m->clear_flags == 0 && !m->bind && m->data == NULL);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rw','suid','dev','exec','async','nomand','atime','diratime','norelatime','nostrictatime'"))) {
                CHECK(m->flags == 0);
                CHECK(m->clear_flags == (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                                         MS_SYNCHRONOUS | MS_MANDLOCK | MS_NOATIME |
                                         MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME));
                cella_spec_free(s);
        }
        /* the last of ro/rw wins */
        if ((m = one_mount(&s, "'ro','rw'"))) {
                CHECK(m->flags == 0 && m->clear_flags == MS_RDONLY);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'shared'"))) {
                CHECK(m->propagation == MS_SHARED);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rprivate'"))) {
                CHECK(m->propagation == (MS_PRIVATE | MS_REC));
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'slave'"))) {
                CHECK(m->propagation == MS_SLAVE);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'runbindable'"))) {
                CHECK(m->propagation == (MS_UNBINDABLE | MS_REC));
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'unbindable','rshared'"))) {
                CHECK(m->propagation == (MS_UNBINDABLE | MS_SHARED | MS_REC));
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rro','rnosuid','rnodev','rnoexec','rnodiratime','rstrictatime'"))) {
                CHECK(m->attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                      MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME |
                                      MOUNT_ATTR_STRICTATIME));
                CHECK(m->attr_clr == MOUNT_ATTR__ATIME);
                CHECK(m->flags == 0);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rrw','rsuid','rdev','rexec','ratime'"))) {
                CHECK(m->attr_set == 0);
                CHECK(m->attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                      MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOATIME));
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rrelatime'"))) {
                CHECK(m->attr_set == MOUNT_ATTR_RELATIME && m->attr_clr == MOUNT_ATTR__ATIME);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'tmpcopyup','idmap','ridmap','size=64k','mode=755'"))) {
                CHECK(m->flags == 0 && m->attr_set == 0);
                CHECK_STREQ(m->data, "size=64k,mode=755");
                CHECK(m->options.n == 5);
                CHECK_STREQ(m->options.v[0], "tmpcopyup");
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'bind'"))) {
                CHECK(m->bind && !m->recursive_bind && m->flags == MS_BIND);
                cella_spec_free(s);
        }
        if ((m = one_mount(&s, "'rbind','ro'"))) {
                CHECK(m->bind && m->recursive_bind && m->flags == (MS_BIND | MS_REC | MS_RDONLY));
                cella_spec_free(s);
        }
}

static void test_mount_option_table(void)
{
        CHECK(mount_options_table_sorted());
        unsigned long f = 0;
        CHECK(mount_propagation_flags("rslave", &f) && f == (MS_SLAVE | MS_REC));
        CHECK(!mount_propagation_flags("ro", &f));
        CHECK(!mount_propagation_flags("bogus", &f));
}

static void test_rootfs_propagation(void)
{
        static const struct {
                const char *name;
                unsigned long flags;
        } cases[] = {
                { "shared", MS_SHARED },         { "slave", MS_SLAVE },
                { "private", MS_PRIVATE },       { "unbindable", MS_UNBINDABLE },
                { "rshared", MS_SHARED | MS_REC }, { "rprivate", MS_PRIVATE | MS_REC },
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                char buf[256];
                snprintf(buf, sizeof buf, BASE ",'linux':{'rootfsPropagation':'%s'}}", cases[i].name);
                struct cella_spec *s = parse_ok(buf);
                if (!s)
                        continue;
                CHECK(s->linux_.rootfs_propagation_flags == cases[i].flags);
                cella_spec_free(s);
        }
}

/* the io.cella.* annotations are found once, by the parser, into typed
 * fields (spec->io_cella) that backend selection and netns/ read */
static void test_io_cella_annotations(void)
{
        struct cella_spec *s = parse_ok(BASE ",'annotations':{'io.cella.sandbox':'vm','io.cella.net.mode':'bridge',"
                                        "'io.cella.net.ports':'8080:80','io.cella.net.nat':'true','other':'x'}}");
        CHECK(s && s->io_cella.sandbox == CELLA_SANDBOX_VM);
        CHECK(s && s->io_cella.net.mode && streq(s->io_cella.net.mode, "bridge"));
        CHECK(s && s->io_cella.net.ports && streq(s->io_cella.net.ports, "8080:80"));
        CHECK(s && s->io_cella.net.nat && streq(s->io_cella.net.nat, "true") && !s->io_cella.net.subnet);
        cella_spec_free(s);
        s = parse_ok(BASE ",'annotations':{'io.cella.sandbox':'none'}}");
        CHECK(s && s->io_cella.sandbox == CELLA_SANDBOX_NONE && !s->io_cella.net.mode);
        cella_spec_free(s);
        s = parse_ok(BASE "}");
        CHECK(s && s->io_cella.sandbox == CELLA_SANDBOX_NONE);
        cella_spec_free(s);
        const char *e = parse_err(BASE ",'annotations':{'io.cella.sandbox':'kvm'}}");
        CHECK(e && strstr(e, "annotations[\"io.cella.sandbox\"]: expected \"vm\" or \"none\", not \"kvm\""));
}

static void test_lookups(void)
{
        CHECK(cella_capability_from_name("CAP_CHOWN") == 0);
        CHECK(cella_capability_from_name("CAP_SYS_ADMIN") == 21);
        CHECK(cella_capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
        CHECK(cella_capability_from_name("CAP_FOO") == -1);
        CHECK(cella_capability_from_name("chown") == -1);
        CHECK(cella_capability_from_name(NULL) == -1);
        CHECK_STREQ(cella_capability_name(29), "CAP_AUDIT_WRITE");
        CHECK(cella_capability_name(41) == NULL && cella_capability_name(-1) == NULL);
        CHECK(cella_capability_last() == 40);
        for (int i = 0; i <= cella_capability_last(); i++)
                CHECK(cella_capability_from_name(cella_capability_name(i)) == i);

        CHECK_STREQ(cella_ns_type_name(CELLA_NS_NET), "network");
        CHECK_STREQ(cella_ns_type_name(CELLA_NS_MOUNT), "mount");
        CHECK(cella_ns_type_name(CELLA_NS__COUNT) == NULL);
        CHECK(cella_ns_clone_flag(CELLA_NS_PID) == CLONE_NEWPID);
        CHECK(cella_ns_clone_flag(CELLA_NS_MOUNT) == CLONE_NEWNS);
        CHECK(cella_ns_clone_flag(CELLA_NS_USER) == CLONE_NEWUSER);
        CHECK(cella_ns_clone_flag(CELLA_NS_CGROUP) == CLONE_NEWCGROUP);
        CHECK(cella_ns_clone_flag(CELLA_NS_TIME) == 0x80);
        CHECK_STREQ(cella_hook_kind_name(CELLA_HOOK_CREATE_RUNTIME), "createRuntime");
        CHECK_STREQ(cella_hook_kind_name(CELLA_HOOK_POSTSTOP), "poststop");
        CHECK(cella_hook_kind_name(CELLA_HOOK__COUNT) == NULL);
}

int main(void)
{
        RUN(test_minimal);
        RUN(test_full);
        RUN(test_unknown_keys_and_nulls);
        RUN(test_errors);
        RUN(test_malformed_json);
        RUN(test_sysctl_and_userns_ok);
        RUN(test_relative_mount_destination);
        RUN(test_mount_options);
        RUN(test_mount_option_table);
        RUN(test_rootfs_propagation);
        RUN(test_lookups);
        RUN(test_io_cella_annotations);
        UNIT_EXIT();
}
