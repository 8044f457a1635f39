# SPDX-License-Identifier: Apache-2.0
# cella — `make demo` and `make check` are all a newcomer needs (as root on Debian 12).

CC      ?= cc
VERSION := 0.1.0
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PKGS    := libcap libseccomp yajl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcap -lseccomp -lyajl)
# optional modules link their libraries only when their sources exist
ifneq ($(wildcard netns/*.c),)
PKG_LIBS += $(shell pkg-config --libs libmnl 2>/dev/null || echo -lmnl)
endif
# libseccomp, libcap and yajl go into the release binary from their static
# archives when Debian's -dev packages ship them: three fewer libraries for
# ld.so to map and relocate on every start (-0.25 ms a container, see
# docs/performance.md). STATIC=0 links them dynamically.
STATIC  ?= 1
static_archive = $(filter /%,$(shell $(CC) -print-file-name=$(1) 2>/dev/null))
STATIC_ARCHIVES := $(if $(filter 1,$(STATIC)),$(call static_archive,libseccomp.a) \
	$(call static_archive,libcap.a) $(call static_archive,libyajl_s.a))
ifeq ($(words $(STATIC_ARCHIVES)),3)
REL_LIBS := $(STATIC_ARCHIVES) $(filter-out -lseccomp -lcap -lyajl,$(PKG_LIBS))
else
REL_LIBS := $(PKG_LIBS)
endif
# image/ dlopen()s libarchive on first use (image/dl.h), base/sha256.c
# libcrypto: only the unit tests, which build archives themselves, link one.
TEST_LIBS := $(shell pkg-config --libs libarchive 2>/dev/null || echo -larchive)

WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(PKG_CFLAGS) \
	-DCELLA_VERSION='"$(VERSION)"' -DCELLA_COMMIT='"$(COMMIT)"' -I.
REL_CFLAGS  := $(BASE_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -g
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDFLAGS_REL := -Wl,-O1 -Wl,--as-needed -Wl,-z,relro -Wl,-z,now

LIB_SRCS := $(wildcard base/*.c oci/*.c cgroup/*.c netns/*.c image/*.c criu/*.c sandbox/*.c runtime/*.c backend/*.c)
CLI_SRCS := $(wildcard cli/*.c agent/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

REL_LIB_OBJS  := $(LIB_SRCS:%.c=build/rel/%.o)
REL_CLI_OBJS  := $(CLI_SRCS:%.c=build/rel/%.o)
ASAN_LIB_OBJS := $(LIB_SRCS:%.c=build/asan/%.o)
ASAN_CLI_OBJS := $(CLI_SRCS:%.c=build/asan/%.o)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/asan/tests/%)

.PHONY: all deps demo check check-layers unit integration asan clean bench vmtest lab fuzz stress conformance
all: cella

cella: $(REL_LIB_OBJS) $(REL_CLI_OBJS)
	$(CC) $(LDFLAGS_REL) -o $@ $^ $(REL_LIBS)

build/cella-asan: $(ASAN_LIB_OBJS) $(ASAN_CLI_OBJS)
	$(CC) -fsanitize=address,undefined -o $@ $^ $(PKG_LIBS)

build/rel/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(REL_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(ASAN_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN_LIB_OBJS) $(PKG_LIBS) $(TEST_LIBS)

asan: build/cella-asan
unit: $(UNIT_BINS)

deps:
	@sh scripts/deps.sh

demo: deps
	@$(MAKE) --no-print-directory cella
	@sh scripts/demo.sh

check: deps
	@$(MAKE) --no-print-directory check-layers
	@$(MAKE) --no-print-directory cella containerd-shim-cella-v2 build/cella-asan unit
	@sh tests/run.sh

# the layer table (docs/layers.txt): every #include goes down it, no file
# over 1000 lines, no function over 150 (docs/architecture.md)
check-layers:
	@python3 scripts/check-layers.py

vmtest: cella
	@rc=0; for f in tests/vm/run-*.sh; do echo "# $$f"; bash $$f; r=$$?; \
		if [ $$r = 77 ]; then echo "# $$f skipped"; elif [ $$r != 0 ]; then rc=1; fi; done; exit $$rc

bench: cella
	@sh bench/start.sh

# the OCI runtime-tools validation suite, fetched and built outside the repo
# (RUNTIME_TOOLS_SRC; docs/conformance.md); exit 77 = skipped
conformance: cella
	@bash tests/conformance/oci-validation.sh; r=$$?; [ $$r = 77 ] || exit $$r

clean:
	rm -rf build cella

# make lab: the five labs one after the other in their short mode (results,
# tables and charts in labs/NAME/results/; as root). LAB_QUICK=0: the full
# runs; LABS="overhead migration": only those; LIST=1: list them, run nothing.
LAB_QUICK ?= 1
lab: $(if $(LIST),,cella)
	@labs=$$(for d in labs/*/; do sed -n "s|^# Lab \([0-9]*\) — .*|\1 $$(basename $$d)|p" $$d/README.md; done | sort -n | cut -d' ' -f2); \
	if [ -n "$(LIST)" ]; then \
		echo "labs (see labs/README.md; make lab runs them all, LAB_QUICK=0 for full runs, LABS=NAME for one):"; \
		for d in $$labs; do sed -n "s|^# Lab \([0-9]*\) — \(.*\)|\1 $$d \2|p" labs/$$d/README.md; done | \
			while read -r n name title; do printf '  %s. %-11s %s\n' "$$n" "$$name" "$$title"; done; \
		exit 0; \
	fi; \
	rc=0; failed=""; for l in $(if $(LABS),$(LABS),$$labs); do \
		echo "### lab $$l: labs/$$l/run.sh (LAB_QUICK=$(LAB_QUICK))"; t0=$$(date +%s); \
		LAB_QUICK=$(LAB_QUICK) bash labs/$$l/run.sh || { rc=1; failed="$$failed $$l"; }; \
		echo "### lab $$l: $$(($$(date +%s) - t0)) s"; echo; \
	done; \
	echo "### charts:"; ls -1 labs/*/results/*.png 2>/dev/null | sed 's/^/  /'; \
	[ $$rc = 0 ] || echo "### failed:$$failed"; exit $$rc

fuzz:
	@CELLA_EXTRA_PKGS="clang-14 libclang-rt-14-dev" sh scripts/deps.sh
	@$(MAKE) --no-print-directory -f tests/fuzz/fuzz.mk fuzz-run

stress:
	@CELLA_EXTRA_PKGS=valgrind sh scripts/deps.sh
	@$(MAKE) --no-print-directory cella
	@CHURN=$${CHURN:-500} bash tests/integration/churn.sh

# containerd-shim-cella-v2 (docs/shim.md)
include shim/shim.mk

# tests/integration/vm_pod.sh drives backend/vm_pod.h with this program; it
# links the guest agent too, because a pod VM's /init is the running binary
VMPOD_DRIVER_OBJS := $(REL_LIB_OBJS) $(filter build/rel/agent/%,$(REL_CLI_OBJS))
build/vmpod-driver: tests/helpers/vmpod-driver.c $(VMPOD_DRIVER_OBJS)
	$(CC) $(REL_CFLAGS) $(LDFLAGS_REL) -o $@ $^ $(REL_LIBS)
# the same with ASan+UBSan: VMPOD_DRIVER=build/vmpod-driver-asan bash tests/integration/vm_pod.sh
build/vmpod-driver-asan: tests/helpers/vmpod-driver.c $(ASAN_LIB_OBJS) $(filter build/asan/agent/%,$(ASAN_CLI_OBJS))
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(PKG_LIBS)
