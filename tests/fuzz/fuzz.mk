# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/fuzz.mk — the fuzz targets. Run from the top directory:
#   make fuzz                     (= make -f tests/fuzz/fuzz.mk fuzz-run)
#   make -f tests/fuzz/fuzz.mk fuzz-replay   build the replay binaries only
# Environment: FUZZ_SECONDS per target (default 60), FUZZ_TARGETS (subset),
# FUZZ_CC (default clang-14, else clang).
include Makefile
.DEFAULT_GOAL := fuzz-run

FUZZ_CC ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= spec process resources state netlink image_index image_manifest unpack ttrpc
FUZZ_CFLAGS := $(filter-out -Werror -Wno-format-truncation,$(BASE_CFLAGS)) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LINK := -fsanitize=fuzzer,address,undefined

# fuzz_netlink.c includes these sources to reach their static reply parsers
NETLINK_INCLUDED := netns/addr.c netns/link.c netns/route.c

# the image targets link image/ and the layers below it (oci/ builds the
# runtime config of an image, base/), not the whole library (less to build,
# and clang-14 need not compile the rest)
IMAGE_TARGETS := image_index image_manifest unpack
IMAGE_FUZZ_SRCS := $(wildcard image/*.c oci/*.c base/*.c)

fuzz_srcs = $(if $(filter netlink,$(1)),$(filter-out $(NETLINK_INCLUDED),$(LIB_SRCS)),$(if $(filter $(IMAGE_TARGETS),$(1)),$(IMAGE_FUZZ_SRCS),$(LIB_SRCS)))
fuzz_lib_objs = $(patsubst %.c,build/fuzz/obj/%.o,$(call fuzz_srcs,$(1)))
asan_lib_objs = $(patsubst %.c,build/asan/%.o,$(call fuzz_srcs,$(1)))

FUZZ_BINS   := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
REPLAY_BINS := $(FUZZ_TARGETS:%=build/fuzz/replay/fuzz_%)

build/fuzz/obj/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# ttrpc: the shim's objects (shim/shim.mk) and its generated protobuf-c code
SHIM_FUZZ_OBJS := $(call shim_objs,fuzz/obj)
build/fuzz/obj/shim/%.o: shim/%.c $(SHIM_HDRS) $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SHIM_INC) -c -o $@ $<
build/fuzz/obj/shim/gen/%.o: $(SHIM_GEN)/%.c $(SHIM_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SHIM_INC) -c -o $@ $<
build/fuzz/fuzz_ttrpc: tests/fuzz/fuzz_ttrpc.c $(SHIM_FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(SHIM_INC) $(FUZZ_LINK) -o $@ $^ $(SHIM_LIBS)
build/fuzz/replay/fuzz_ttrpc: tests/fuzz/fuzz_ttrpc.c tests/fuzz/replay.c $(SHIM_ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) $(SHIM_INC) -o $@ $^ $(SHIM_LIBS)

.SECONDEXPANSION:
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $$(call fuzz_lib_objs,$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LINK) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

build/fuzz/replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(wildcard tests/fuzz/*.h) $$(call asan_lib_objs,$$*)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $(filter-out %.h,$^) $(PKG_LIBS)

.PHONY: fuzz-build fuzz-run fuzz-replay
fuzz-build: $(FUZZ_BINS)
fuzz-replay: $(REPLAY_BINS)

# Each target runs FUZZ_SECONDS on a scratch copy of its corpus (new inputs
# land in build/fuzz/work/, not in the repository); a crash stops the run and
# leaves its input in build/fuzz/artifacts/<target>/.
fuzz-run: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/work/$$t build/fuzz/artifacts/$$t tests/fuzz/regressions/$$t; \
		echo "== fuzz_$$t for $(FUZZ_SECONDS)s"; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 $$(case $$t in netlink|unpack) ;; ttrpc) echo -dict=tests/fuzz/ttrpc.dict ;; *) echo -dict=tests/fuzz/json.dict ;; esac) \
			-artifact_prefix=build/fuzz/artifacts/$$t/ \
			build/fuzz/work/$$t tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t; \
	done
