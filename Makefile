# rayc — plain GNU make build.
#
#   make                      binaries into bin/, libraries into lib/
#   make test                 build, then run tests/run.tcl (C unit tests + Tcl suites)
#   make demo                 the main job end to end (see README.md)
#   make SANITIZE=address,undefined
#   make valgrind             C unit tests under valgrind
#   make fuzz                 libFuzzer targets (clang), FUZZ_RUNS runs or FUZZ_TIME s each
#                             (FUZZ_ONLY=fuzz_cfg: one; tests/unit/fuzz.tcl runs them briefly)
#   make install PREFIX=/usr/local   programs, ray.h, libray.a/.so, lib/pkgconfig/ray.pc
#   make dist                 build/dist/rayc.tar.gz (the same, with install.sh)
#   make PYTHON=/path/to/python3  the Python extension for another interpreter
#   make clean
#
# Every module folder builds into one static library from all of its .c files
# except *_main.c; each *_main.c is a program.  New files need no Makefile edit.

CC       ?= cc
PREFIX   ?= /usr/local
BUILD    := build
GEN      := $(BUILD)/gen
PKGS     := libuv libssh yaml-0.1 libcurl sqlite3 libmicrohttpd jansson \
            libprotobuf-c libarchive libssl libcrypto
WARN     := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter -Werror
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Iruntime -I. -I$(GEN) \
            $(shell pkg-config --cflags $(PKGS))
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -fPIC -MMD -MP
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm

ifdef SANITIZE
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
WARN    += -Wno-format-overflow
LDFLAGS += -fsanitize=$(SANITIZE)
endif

# ---------------------------------------------------------------- sources

PROTO_C  := $(GEN)/ray.pb-c.c
PROTO_H  := $(GEN)/ray.pb-c.h

# module name -> folder
MODULES  := common gcs objstore raylet worker api jobserver jobclient launcher cli
dir_common    := runtime/common
dir_gcs       := runtime/gcs
dir_raylet    := runtime/raylet
dir_objstore  := runtime/objstore
dir_worker    := runtime/worker
dir_api       := runtime/api
dir_jobserver := jobserver
dir_jobclient := jobclient
dir_launcher  := launcher
dir_cli       := cli

lib_srcs  = $(filter-out %_main.c,$(wildcard $(dir_$(1))/*.c))
main_srcs = $(wildcard $(dir_$(1))/*_main.c)
objs      = $(patsubst %.c,$(BUILD)/%.o,$(1))

# Libraries in link order: higher layers first.
MODULE_LIBS := $(foreach m,cli launcher jobclient jobserver api raylet objstore gcs worker common,\
                 $(if $(call lib_srcs,$(m)),$(BUILD)/lib$(m).a))

# Programs: gcs_main.c -> bin/gcs_server etc.  The names are fixed here.
PROGRAMS := bin/ray bin/gcs_server bin/raylet
ifneq ($(wildcard jobserver/jobserver_main.c),)
PROGRAMS += bin/ray_jobserver bin/ray_job_wrapper
endif
ifneq ($(wildcard runtime/worker/worker_main.c),)
PROGRAMS += bin/ray_worker
endif
# Serve's HTTP proxy (serve/): a libray driver with libmicrohttpd.
SERVE_SRCS := $(wildcard serve/*.c)
ifneq ($(SERVE_SRCS),)
PROGRAMS += bin/ray_serve_proxy
endif
# Serve's CLI: a shell wrapper of python -m ray.serve.scripts.
ifneq ($(wildcard python/serve.sh),)
PROGRAMS += bin/serve
endif

# libray: the C API for drivers and task libraries (runtime/api + runtime/common).
API_OBJS    := $(call objs,$(call lib_srcs,api)) $(call objs,$(call lib_srcs,common)) $(BUILD)/gen/ray.pb-c.o
# libray.so carries a soname: bump LIBRAY_ABI when ray.h's ABI breaks.  The
# pkg-config file deploy/ray.pc.in is filled in by `make install` and by the
# dist tarball's install.sh.
RAYC_VERSION := $(shell sed -n 's/^\#define RAYC_VERSION "\(.*\)"/\1/p' cli/ray_main.c)
LIBRAY_ABI   := 1
LIBRAY_REAL  := libray.so.$(LIBRAY_ABI).0.0
LIBRAY      := $(if $(call lib_srcs,api),lib/libray.a lib/$(LIBRAY_REAL) lib/libray.so.$(LIBRAY_ABI) lib/libray.so)
RAY_LDLIBS  := $(shell pkg-config --libs libuv libprotobuf-c libssl libcrypto jansson) -lpthread -ldl -lm

# Examples: examples/NAME/NAME.c is a driver (examples/NAME/NAME), and
# examples/NAME/NAME_tasks.c a task library (examples/NAME/libNAME_tasks.so)
# that workers dlopen.  Both land next to their sources, so the folder is a
# ready working_dir for `ray job submit --working-dir examples/NAME -- ./NAME`.
EXAMPLE_DIRS    := $(if $(LIBRAY),$(patsubst %/,%,$(dir $(wildcard examples/*/*_tasks.c))))
EXAMPLE_DRIVERS := $(foreach d,$(EXAMPLE_DIRS),$(d)/$(notdir $(d)))
EXAMPLE_LIBS    := $(foreach d,$(EXAMPLE_DIRS),$(d)/lib$(notdir $(d))_tasks.so)

# bench/NAME_tasks.c is a task library for the bench driver bench/NAME.c
# (build/bench/libNAME_tasks.so, next to the driver, where workers look).
BENCH_SRCS := $(filter-out %_tasks.c,$(wildcard bench/*.c))
BENCHES    := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
BENCH_LIBS := $(patsubst bench/%_tasks.c,$(BUILD)/bench/lib%_tasks.so,$(wildcard bench/*_tasks.c))
CTEST_SRCS := $(wildcard tests/c/test_*.c)
CTESTS     := $(patsubst tests/c/%.c,$(BUILD)/tests/%,$(CTEST_SRCS))
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)

# The CPython extension ray._raylet (python/src/*.c) over libray, built in
# place as python/ray/_raylet*.so so that PYTHONPATH=python works from a
# checkout.  Python.h comes from python3-dev (deploy/install-deps.sh).
PYTHON     ?= /usr/bin/python3
PY_INC     := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
PY_SUFFIX  := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PYEXT_SRCS := $(wildcard python/src/*.c)
PYEXT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PYEXT_SRCS))
PYEXT      := $(if $(and $(LIBRAY),$(PYEXT_SRCS)),python/ray/_raylet$(PY_SUFFIX))

ALL_OBJS := $(call objs,$(foreach m,$(MODULES),$(call lib_srcs,$(m)) $(call main_srcs,$(m)))) \
            $(call objs,$(SERVE_SRCS))

.PHONY: all test demo valgrind fuzz install clean deps benches dist bench-multihost
all: $(PROGRAMS) bin/ray-up bin/ray-down $(LIBRAY) $(PYEXT) $(EXAMPLE_DRIVERS) $(EXAMPLE_LIBS) $(CTESTS) $(BENCHES) $(BENCH_LIBS)

# ---------------------------------------------------------------- generated code

$(PROTO_C) $(PROTO_H): runtime/proto/ray.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=runtime/proto --c_out=$(GEN) $<

$(BUILD)/gen/ray.pb-c.o: $(PROTO_C)
	$(CC) $(CPPFLAGS) $(CFLAGS) -w -c $< -o $@

# Everything depends on the generated header existing first.
$(ALL_OBJS) $(CTESTS) $(BENCHES) $(PYEXT_OBJS): | $(PROTO_H)

# ---------------------------------------------------------------- objects and libraries

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -c $< -o $@

define module_lib
$(BUILD)/lib$(1).a: $(call objs,$(call lib_srcs,$(1))) $(if $(filter common,$(1)),$(BUILD)/gen/ray.pb-c.o)
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(if $(call lib_srcs,$(m)),$(eval $(call module_lib,$(m)))))

LINK = $(CC) $(LDFLAGS) -o $@ $^ $(MODULE_LIBS) $(LDLIBS)

# Layers as a build fact: each daemon links only the module libraries its
# layer may use (higher first), so a call the wrong way fails to link.
# `ray` (the CLI) drives every layer and links them all.
mlibs = $(foreach m,$(1),$(BUILD)/lib$(m).a)
GCS_LIBS       := $(call mlibs,gcs common)
RAYLET_LIBS    := $(call mlibs,raylet objstore common)
JOBSERVER_LIBS := $(call mlibs,jobserver common)
WORKER_LIBS    := $(call mlibs,worker api common)

bin/ray: $(call objs,$(call main_srcs,cli)) $(MODULE_LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(MODULE_LIBS) $(LDLIBS)
bin/gcs_server: $(call objs,$(call main_srcs,gcs)) $(GCS_LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(GCS_LIBS) $(LDLIBS)
bin/raylet: $(call objs,$(call main_srcs,raylet)) $(RAYLET_LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(RAYLET_LIBS) $(LDLIBS)
bin/ray_jobserver: $(call objs,jobserver/jobserver_main.c) $(JOBSERVER_LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(JOBSERVER_LIBS) $(LDLIBS)
# The job wrapper links libc alone, statically, so that starting it costs no
# dynamic loading: it starts once per job (jobs_wrapper.c).  Sanitizer builds
# link it dynamically, as the sanitizers' runtimes must be.
WRAPPER_LDFLAGS := $(if $(SANITIZE),,-static)
bin/ray_job_wrapper: $(call objs,jobserver/jobwrapper_main.c jobserver/jobs_wrapper.c jobserver/jobs_procstat.c)
	@mkdir -p bin
	$(CC) $(LDFLAGS) $(WRAPPER_LDFLAGS) -o $@ $^
# Workers export libray's symbols (-rdynamic) to the task libraries they dlopen.
bin/ray_worker: $(call objs,runtime/worker/worker_main.c) $(WORKER_LIBS)
	@mkdir -p bin
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(WORKER_LIBS) $(LDLIBS)
bin/ray_serve_proxy: $(call objs,$(SERVE_SRCS)) lib/libray.a
	@mkdir -p bin
	$(CC) $(LDFLAGS) -o $@ $(call objs,$(SERVE_SRCS)) lib/libray.a $(RAY_LDLIBS) \
	    $(shell pkg-config --libs libmicrohttpd)
bin/serve: python/serve.sh
	@mkdir -p bin
	install -m 755 $< $@
lib/libray.a: $(API_OBJS)
	@mkdir -p lib
	@rm -f $@
	ar rcs $@ $^
lib/$(LIBRAY_REAL): $(API_OBJS)
	@mkdir -p lib
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libray.so.$(LIBRAY_ABI) -o $@ $^ $(RAY_LDLIBS)
lib/libray.so.$(LIBRAY_ABI) lib/libray.so: lib/$(LIBRAY_REAL)
	ln -sfn $(LIBRAY_REAL) $@

$(BUILD)/python/src/%.o: python/src/%.c
	@test -f "$(PY_INC)/Python.h" || { echo "Python.h not found for $(PYTHON): apt-get install python3-dev (or make PYTHON=...)"; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -isystem $(PY_INC) $(CFLAGS) $(WARN) -fvisibility=hidden -c $< -o $@
# The whole of libray goes in, exported, with the worker's library loader:
# a C task library that a Python worker loads (ray.cross_language) finds
# every ray_* function there.
PYEXT_LINK := $(PYEXT_OBJS) $(BUILD)/runtime/worker/worker_libs.o
$(PYEXT): $(PYEXT_LINK) lib/libray.a
	$(CC) $(LDFLAGS) -shared -o $@ $(PYEXT_LINK) -Wl,--whole-archive lib/libray.a \
	    -Wl,--no-whole-archive $(RAY_LDLIBS)

define example_rules
$(1)/$(notdir $(1)): $(1)/$(notdir $(1)).c lib/libray.a
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(WARN) $$(LDFLAGS) -o $$@ $$< lib/libray.a $$(RAY_LDLIBS)
$(1)/lib$(notdir $(1))_tasks.so: $(1)/$(notdir $(1))_tasks.c include/ray/ray.h
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(WARN) -shared -o $$@ $$<
endef
$(foreach d,$(EXAMPLE_DIRS),$(eval $(call example_rules,$(d))))

bin/ray-up bin/ray-down: bin/ray
	ln -sf ray $@

# ---------------------------------------------------------------- tests, benches, fuzz

$(BUILD)/tests/%: tests/c/%.c $(MODULE_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(MODULE_LIBS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(MODULE_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ $< $(MODULE_LIBS) $(LDLIBS)

$(BUILD)/bench/lib%_tasks.so: bench/%_tasks.c include/ray/ray.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -shared -o $@ $<

deps:
	@./deploy/install-deps.sh

test: deps
	$(MAKE) all
	tclsh tests/run.tcl

demo: deps
	$(MAKE) all
	./deploy/demo.sh

valgrind: all
	@set -e; for t in $(CTESTS); do \
	  echo "valgrind $$t"; \
	  valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite $$t; \
	done

FUZZ_TIME ?= 30
FUZZ_RUNS ?= 100000
FUZZ_ONLY ?=
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
# The sources a target needs besides runtime/common: its " * fuzz-srcs:" line.
fuzz_srcs = $(shell sed -n 's/^ \* fuzz-srcs: \([^*]*\).*$$/\1/p' $(1))

.SECONDEXPANSION:
$(BUILD)/fuzz/%: tests/fuzz/%.c $$(call fuzz_srcs,tests/fuzz/$$*.c) $(wildcard runtime/common/*.[ch]) $(PROTO_C)
	@mkdir -p $(dir $@)
	clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -o $@ $< $(call fuzz_srcs,$<) $(wildcard runtime/common/*.c) $(PROTO_C) $(LDLIBS)

# Builds the targets that changed, then runs each (FUZZ_ONLY=NAME: that one)
# from its seeds for FUZZ_RUNS inputs or FUZZ_TIME seconds (0: no limit).
fuzz: $(if $(FUZZ_ONLY),$(BUILD)/fuzz/$(FUZZ_ONLY),$(FUZZ_BINS))
	@set -e; for b in $^; do \
	  n=$$(basename $$b); \
	  rm -rf $$b.corpus; mkdir -p $$b.corpus; \
	  if [ -d tests/fuzz/seeds/$$n ]; then cp tests/fuzz/seeds/$$n/* $$b.corpus/; fi; \
	  echo "fuzzing $$n: $(FUZZ_RUNS) runs or $(FUZZ_TIME)s"; \
	  $$b -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_TIME) -max_len=4096 \
	    -artifact_prefix=$(BUILD)/fuzz/$$n- -print_final_stats=1 $$b.corpus >$$b.log 2>&1 \
	    || { tail -30 $$b.log; exit 1; }; \
	  grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' $$b.log; \
	done

benches: $(BENCHES) $(BENCH_LIBS)

# Cross-node transfer, tasks/s on 4 hosts against 1, map-reduce against Dask
# (root: local test hosts; see bench/multihost.sh).
bench-multihost: all
	@./deploy/install-deps.sh --bench
	./bench/multihost.sh

# A tarball of the binaries with an install script (see deploy/dist.sh).
dist: all
	./deploy/dist.sh

# Programs, ray.h, libray (static, and shared with its soname links) and
# ray.pc, so that `cc $$(pkg-config --cflags --libs ray)` builds a driver.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/include/ray
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	ln -sf ray $(DESTDIR)$(PREFIX)/bin/ray-up
	ln -sf ray $(DESTDIR)$(PREFIX)/bin/ray-down
	install -d $(DESTDIR)$(PREFIX)/share/rayc/dashboard
	install -m 644 dashboard/index.html dashboard/app.js dashboard/style.css \
	    $(DESTDIR)$(PREFIX)/share/rayc/dashboard/
	$(if $(wildcard include/ray/*.h),install -m 644 include/ray/*.h $(DESTDIR)$(PREFIX)/include/ray/)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 lib/libray.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 lib/$(LIBRAY_REAL) $(DESTDIR)$(PREFIX)/lib/
	ln -sfn $(LIBRAY_REAL) $(DESTDIR)$(PREFIX)/lib/libray.so.$(LIBRAY_ABI)
	ln -sfn $(LIBRAY_REAL) $(DESTDIR)$(PREFIX)/lib/libray.so
	sed -e 's|@PREFIX@|$(abspath $(PREFIX))|' -e 's|@VERSION@|$(RAYC_VERSION)|' deploy/ray.pc.in \
	    > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ray.pc

# The Python package `ray` (issue 11): into PREFIX/lib/python3.X/dist-packages,
# where Debian's python3 finds it for PREFIX=/usr/local.
PY_SITE := $(PREFIX)/lib/$(shell $(PYTHON) -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null)/dist-packages
install: install-python
install-python: all
	$(if $(PYEXT),cd python && find ray -name '*.py' -exec install -D -m 644 {} $(DESTDIR)$(PY_SITE)/{} \;)
	$(if $(PYEXT),install -m 755 $(PYEXT) $(DESTDIR)$(PY_SITE)/ray/)
.PHONY: install-python

clean:
	rm -rf $(BUILD) bin lib $(EXAMPLE_DRIVERS) $(EXAMPLE_LIBS) python/ray/_raylet*.so

-include $(ALL_OBJS:.o=.d) $(PYEXT_OBJS:.o=.d) $(wildcard $(BUILD)/bench/*.d $(BUILD)/tests/*.d)
