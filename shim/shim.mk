# SPDX-License-Identifier: Apache-2.0
# shim/shim.mk — containerd-shim-cella-v2, included by the top Makefile.
#
# The message code is generated at build time by protoc-c (protobuf-c-compiler)
# from the .proto files Debian's golang-github-containerd-containerd-dev
# installs (and those of its dependencies golang-github-containerd-cgroups-dev
# and golang-github-gogo-protobuf-dev, which also carries google/protobuf/*.proto),
# plus shim/ttrpc.proto. Nothing generated is committed: it all lands in
# build/shim/gen/. See docs/shim.md.

SHIM_BIN := containerd-shim-cella-v2
GOCODE ?= /usr/share/gocode/src
SHIM_GEN := build/shim/gen

# import paths: containerd's protos import each other as
# "github.com/containerd/...", options as "gogoproto/gogo.proto" and
# well-known types as "google/protobuf/*.proto"
SHIM_PROTO_PATH := -I$(GOCODE) -I$(GOCODE)/github.com/gogo/protobuf \
	-I$(GOCODE)/github.com/gogo/protobuf/protobuf -Ishim
CTD := github.com/containerd/containerd
# the messages the shim uses (compiled and linked)
SHIM_PROTOS := $(CTD)/runtime/v2/task/shim.proto $(CTD)/api/types/task/task.proto \
	$(CTD)/api/types/mount.proto $(CTD)/api/events/task.proto \
	$(CTD)/api/services/ttrpc/events/v1/events.proto $(CTD)/runtime/v2/runc/options/oci.proto \
	github.com/containerd/cgroups/stats/v1/metrics.proto \
	github.com/containerd/cgroups/v2/stats/metrics.proto \
	google/protobuf/any.proto google/protobuf/empty.proto google/protobuf/timestamp.proto \
	ttrpc.proto runtimeoptions.proto
# imported only for field options (gogoproto, fieldpath): the generated
# headers include theirs, so they are generated, but never compiled
SHIM_PROTOS_HDR := gogoproto/gogo.proto $(CTD)/protobuf/plugin/fieldpath.proto \
	google/protobuf/descriptor.proto

SHIM_GEN_C := $(SHIM_PROTOS:%.proto=$(SHIM_GEN)/%.pb-c.c)
SHIM_STAMP := $(SHIM_GEN)/.stamp

PROTOC_C ?= protoc-c
$(SHIM_STAMP): shim/ttrpc.proto shim/runtimeoptions.proto shim/shim.mk
	@command -v $(PROTOC_C) >/dev/null || { echo "protoc-c missing: make deps (protobuf-c-compiler)" >&2; exit 1; }
	@test -f $(GOCODE)/$(CTD)/runtime/v2/task/shim.proto || { echo "$(GOCODE)/$(CTD): missing: make deps (golang-github-containerd-containerd-dev)" >&2; exit 1; }
	@rm -rf $(SHIM_GEN) && mkdir -p $(SHIM_GEN)
	@# (its only warnings are about the unused gogoproto imports)
	$(PROTOC_C) $(SHIM_PROTO_PATH) --c_out=$(SHIM_GEN) $(SHIM_PROTOS) $(SHIM_PROTOS_HDR) \
		2>$(SHIM_GEN)/protoc.log || { cat $(SHIM_GEN)/protoc.log >&2; exit 1; }
	@touch $@
$(SHIM_GEN_C): $(SHIM_STAMP)

# Two sets. The protocol core (ttrpc, the Task service, the publisher, the
# stub backend) links into the unit test and the fuzz target with only the
# library's base files. The runtime half — main(), the server, the `delete`
# command, the backend on cella's library and its seam (library.c), stdio,
# rootfs — links only into the binary, with the library's objects.
SHIM_RT_SRCS := shim/main.c shim/serve.c shim/delete.c shim/backend_cella.c shim/library.c \
	shim/procio.c shim/rootfs.c shim/metrics.c shim/oom.c shim/trim.c $(wildcard shim/backend_vmpod*.c)
SHIM_SRCS := $(filter-out $(SHIM_RT_SRCS),$(wildcard shim/*.c))
SHIM_BASE_SRCS := base/error.c base/log.c base/util.c base/sha256.c base/json_write.c
SHIM_HDRS := $(wildcard shim/*.h) base/error.h base/log.h base/util.h base/sha256.h base/json_write.h
SHIM_INC := -I$(SHIM_GEN)

shim_objs = $(SHIM_SRCS:%.c=build/$(1)/%.o) $(SHIM_BASE_SRCS:%.c=build/$(1)/%.o) \
	$(SHIM_GEN_C:$(SHIM_GEN)/%.c=build/$(1)/shim/gen/%.o)
SHIM_REL_OBJS := $(call shim_objs,rel)
SHIM_ASAN_OBJS := $(call shim_objs,asan)
# the runtime half, and the library objects it calls (the base ones are
# in shim_objs already)
# — and the guest agent: a VM pod's /init is the running binary (the
# shim), which becomes the pod agent as PID 1 (agent/entry.c)
shim_rt_objs = $(SHIM_RT_SRCS:%.c=build/$(1)/%.o) \
	$(filter-out $(SHIM_BASE_SRCS:%.c=build/$(1)/%.o),$(LIB_SRCS:%.c=build/$(1)/%.o)) \
	$(patsubst %.c,build/$(1)/%.o,$(wildcard agent/*.c))

# protobuf-c and yajl from their static archives when present (as cella's
# libraries are): fewer libraries for ld.so to map in every shim
SHIM_LIBS := -lprotobuf-c -lyajl
SHIM_STATIC_ARCHIVES := $(if $(filter 1,$(STATIC)),$(call static_archive,libprotobuf-c.a) \
	$(call static_archive,libyajl_s.a))
ifeq ($(words $(SHIM_STATIC_ARCHIVES)),2)
SHIM_REL_LIBS := $(SHIM_STATIC_ARCHIVES) $(REL_LIBS)
else
SHIM_REL_LIBS := $(SHIM_LIBS) $(REL_LIBS)
endif

build/rel/shim/%.o: shim/%.c $(SHIM_HDRS) $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(SHIM_INC) -c -o $@ $<
build/asan/shim/%.o: shim/%.c $(SHIM_HDRS) $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(SHIM_INC) -c -o $@ $<
build/rel/shim/gen/%.o: $(SHIM_GEN)/%.c $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) $(SHIM_INC) -c -o $@ $<
build/asan/shim/gen/%.o: $(SHIM_GEN)/%.c $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(SHIM_INC) -c -o $@ $<

# without DWARF (symbols stay, for backtraces): the binary is also every
# VM pod's /init, copied into each pod's initramfs and guest RAM — 2.6 MB
# less per pod (bench/vmpod.sh: QEMU's RSS -6 MiB, boot -0.1 s under TCG)
$(SHIM_BIN): $(call shim_rt_objs,rel) $(SHIM_REL_OBJS)
	$(CC) $(LDFLAGS_REL) -Wl,--strip-debug -o $@ $^ $(SHIM_REL_LIBS)

build/shim-asan: $(call shim_rt_objs,asan) $(SHIM_ASAN_OBJS)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(SHIM_LIBS) $(PKG_LIBS)

# the unit test links the shim's objects, not the runtime library
build/asan/tests/test_ttrpc: tests/unit/test_ttrpc.c tests/unit/unit.h $(SHIM_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(SHIM_INC) -o $@ $< $(SHIM_ASAN_OBJS) $(SHIM_LIBS)

# vmpod_request_read on the library and the generated messages
VMPOD_SETTINGS_TEST_OBJS := build/asan/shim/backend_vmpod_settings.o \
	$(SHIM_GEN_C:$(SHIM_GEN)/%.c=build/asan/shim/gen/%.o)
build/asan/tests/test_vmpod_settings: tests/unit/test_vmpod_settings.c tests/unit/unit.h $(ASAN_LIB_OBJS) \
		$(VMPOD_SETTINGS_TEST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(SHIM_INC) -o $@ $< $(VMPOD_SETTINGS_TEST_OBJS) $(ASAN_LIB_OBJS) $(SHIM_LIBS) $(PKG_LIBS)

.PHONY: shim shim-clean
shim: $(SHIM_BIN)
all: $(SHIM_BIN)
clean: shim-clean
shim-clean:
	rm -f $(SHIM_BIN)
