/* SPDX-License-Identifier: Apache-2.0 */
/* vmpod_request_read (shim/backend_vmpod_settings.c): which Creates ask
 * for a VM pod, of which pod a container is, and the VM's size — from the
 * bundle's config.json and the runtime handler's options. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/backend_vmpod.h"
#include "runtimeoptions.pb-c.h"
#include "base/fileutil.h"
#include "base/util.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/cella-unit-vmpod.XXXXXX";

static void put(const char *name, const char *text)
{
        struct cella_error err = { 0 };
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0 && write_file_atomic_at(dfd, name, text, strlen(text), 0600, &err) == 0);
        if (dfd >= 0)
                close(dfd);
}

/* vmpod_request_read of config.json `config` with handler options whose
 * ConfigPath is `handler_file` (NULL: no options) */
static int read_req(const char *config, const char *handler_file, struct vmpod_request *r, struct cella_error *err)
{
        put("config.json", config);
        shim_create_req req = CONTAINERD__TASK__V2__CREATE_TASK_REQUEST__INIT;
        Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
        Runtimeoptions__V1__Options o = RUNTIMEOPTIONS__V1__OPTIONS__INIT;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *path = handler_file ? xasprintf("%s/%s", dir, handler_file) : NULL;
        if (handler_file) {
                o.config_path = path;
                buf = xmalloc(runtimeoptions__v1__options__get_packed_size(&o) + 1);
                any.type_url = (char *)"runtimeoptions.v1.Options";
                any.value.len = runtimeoptions__v1__options__pack(&o, buf);
                any.value.data = buf;
                req.options = &any;
        }
        return vmpod_request_read(&req, dir, r, err);
}

#define SANDBOX_NS "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/run/netns/cni-1\"}]}"

static void test_annotation_asks_for_a_vm(void)
{
        struct vmpod_request r;
        struct cella_error err = { 0 };
        CHECK(read_req("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
                       "\"io.cella.sandbox\":\"vm\"}," SANDBOX_NS "}", NULL, &r, &err) == 0);
        CHECK(r.vm && !r.sandbox_id);
        CHECK(r.netns && streq(r.netns, "/run/netns/cni-1"));
        CHECK(r.memory_bytes == vm_pod_memory_for(0) && r.vcpus == 0);
        vmpod_request_release(&r);
        /* no CRI annotations at all (ctr): a pod of one */
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"vm\"}}", NULL, &r, &err) == 0);
        CHECK(r.vm && !r.netns);
        vmpod_request_release(&r);
}

static void test_native_unless_asked(void)
{
        struct vmpod_request r;
        struct cella_error err = { 0 };
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"none\"}}", NULL, &r, &err) == 0);
        CHECK(!r.vm && !r.sandbox_id);
        CHECK(read_req("{}", NULL, &r, &err) == 0 && !r.vm);
        /* a config that is not JSON, or odd shapes: the native backend says
         * what is wrong */
        CHECK(read_req("{\"annotations\":", NULL, &r, &err) == 0 && !r.vm);
        CHECK(read_req("{\"annotations\":[\"io.cella.sandbox\"]}", NULL, &r, &err) == 0 && !r.vm);
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":1}}", NULL, &r, &err) == 0 && !r.vm);
        CHECK(read_req("[]", NULL, &r, &err) == 0 && !r.vm);
}

static void test_container_of_a_pod(void)
{
        struct vmpod_request r;
        struct cella_error err = { 0 };
        /* a CRI container carries the pod's annotations too: it joins the
         * pod, it does not start one */
        put("handler.json", "{\"io.cella.sandbox\":\"vm\"}");
        CHECK(read_req("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
                       "\"io.kubernetes.cri.sandbox-id\":\"abc\",\"io.cella.sandbox\":\"vm\"}}",
                       "handler.json", &r, &err) == 0);
        CHECK(!r.vm && r.sandbox_id && streq(r.sandbox_id, "abc"));
        vmpod_request_release(&r);
}

static void test_sizes(void)
{
        struct vmpod_request r;
        struct cella_error err = { 0 };
        /* the pod's resources (containerd's annotations) + the overhead */
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"vm\",\"io.kubernetes.cri.sandbox-memory\":\"134217728\","
                       "\"io.kubernetes.cri.sandbox-cpu-quota\":\"150000\","
                       "\"io.kubernetes.cri.sandbox-cpu-period\":\"100000\"}}", NULL, &r, &err) == 0);
        CHECK(r.memory_bytes == vm_pod_memory_for(134217728) && r.vcpus == 2);
        /* else the sandbox config's own limit */
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"vm\"},"
                       "\"linux\":{\"resources\":{\"memory\":{\"limit\":67108864}}}}", NULL, &r, &err) == 0);
        CHECK(r.memory_bytes == vm_pod_memory_for(67108864));
        /* said outright; bad numbers are ignored */
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"vm\",\"io.cella.vm.memory\":\"300\","
                       "\"io.cella.vm.cpus\":\"3\",\"io.kubernetes.cri.sandbox-memory\":\"134217728\"}}",
                       NULL, &r, &err) == 0);
        CHECK(r.memory_bytes == 300ull << 20 && r.vcpus == 3);
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"vm\",\"io.cella.vm.memory\":\"-5\","
                       "\"io.cella.vm.cpus\":\"two\"}}", NULL, &r, &err) == 0);
        CHECK(r.memory_bytes == vm_pod_memory_for(0) && r.vcpus == 0);
}

static void test_handler_option(void)
{
        struct vmpod_request r;
        struct cella_error err = { 0 };
        put("vm.json", "{\"io.cella.sandbox\":\"vm\",\"io.cella.vm.memory\":\"512\",\"io.cella.vm.cpus\":\"2\"}");
        CHECK(read_req("{}", "vm.json", &r, &err) == 0);
        CHECK(r.vm && r.memory_bytes == 512ull << 20 && r.vcpus == 2);
        /* the pod's annotations win over the handler's defaults */
        CHECK(read_req("{\"annotations\":{\"io.cella.vm.memory\":\"200\"}}", "vm.json", &r, &err) == 0);
        CHECK(r.vm && r.memory_bytes == 200ull << 20);
        CHECK(read_req("{\"annotations\":{\"io.cella.sandbox\":\"none\"}}", "vm.json", &r, &err) == 0);
        CHECK(!r.vm);
        /* a bad file fails the Create, naming the option and the file */
        put("bad.json", "[1]");
        CHECK(read_req("{}", "bad.json", &r, &err) < 0);
        CHECK(strstr(err.msg, "runtime handler option ConfigPath") && strstr(err.msg, "bad.json"));
        cella_error_clear(&err);
        put("bad.json", "{\"io.cella.sandbox\":");
        CHECK(read_req("{}", "bad.json", &r, &err) < 0);
        cella_error_clear(&err);
        CHECK(read_req("{}", "missing.json", &r, &err) < 0);
        CHECK(strstr(err.msg, "missing.json") != NULL);
}

int main(void)
{
        bool made = mkdtemp(dir) != NULL;
        if (!made)
                unit_skip_all("mkdtemp %s failed", dir);
        RUN(test_annotation_asks_for_a_vm);
        RUN(test_native_unless_asked);
        RUN(test_container_of_a_pod);
        RUN(test_sizes);
        RUN(test_handler_option);
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        if (made)
                CHECK(system(cmd) == 0);
        UNIT_EXIT();
}
