# comb - eBPF in user space.  See README.md.
#
#   make            build libcomb (static and shared) and the comb CLI
#   make test       install missing dependencies, build, run the whole suite
#   make demo       install missing dependencies, build, run the main demo
#   make bench      benchmarks: comb against native code and the kernel
#   make asan       the test suite under AddressSanitizer and UBSan
#   make fuzz       build the libFuzzer targets (clang)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Everything is built under $(BUILD) (default build/).

CC        ?= cc
SHELL     := /bin/bash
BUILD     ?= build
PREFIX    ?= /usr/local
CFLAGS    ?= -O2 -g
BPF_CLANG ?= clang-19
FUZZ_CC   ?= clang-19
LLVM_OBJCOPY ?= llvm-objcopy-19
# The BPF conformance suite: next to the checkout, or where the machines keep it.
CONFORMANCE_DIR ?= $(firstword $(wildcard $(abspath ../shared/conformance) /work/shared/conformance) $(abspath ../shared/conformance))

VERSION   := 0.1.0
SOVERSION := 0
WARN      := -Wall -Wextra -Werror -Wno-unused-parameter
ALL_CFLAGS = -std=gnu11 $(WARN) -fPIC -Iinclude -Isrc $(CFLAGS)
LDLIBS    := -lm -lbpf -lelf -lz -lxdp

LIB_SRCS  := $(sort $(wildcard src/*/*.c src/*/*/*.c))
CLI_SRCS  := $(sort $(wildcard tools/comb/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
# BPF C test programs (tests/progs/*.bpf.c), built by clang before the tests run.
PROGS := $(patsubst tests/progs/%.bpf.c,$(BUILD)/progs/%.bpf.o,$(sort $(wildcard tests/progs/*.bpf.c)))
HEADERS   := $(wildcard include/comb/*.h) $(wildcard src/*/*.h src/*/*/*.h) $(wildcard tools/comb/*.h)

LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)

STATIC_LIB := $(BUILD)/libcomb.a
SHARED_LIB := $(BUILD)/libcomb.so.$(VERSION)
COMB       := $(BUILD)/comb

.PHONY: all deps test check demo bench asan fuzz install uninstall clean
all: $(STATIC_LIB) $(SHARED_LIB) $(COMB)

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libcomb.so.$(SOVERSION) -o $@ $^ $(LDLIBS)
	ln -sf libcomb.so.$(VERSION) $(BUILD)/libcomb.so.$(SOVERSION)
	ln -sf libcomb.so.$(VERSION) $(BUILD)/libcomb.so

$(COMB): $(CLI_OBJS) $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(STATIC_LIB) $(LDLIBS) -lZydis -lpcap

$(BUILD)/unit-tests: $(UNIT_OBJS) $(STATIC_LIB) | $(PROGS)
	$(CC) $(ALL_CFLAGS) -o $@ $(UNIT_OBJS) $(STATIC_LIB) $(LDLIBS) -lZydis

# Kernel differential tests (need libbpf; they skip at run time when bpf() is denied).
$(BUILD)/kernel-diff: tests/kernel/kernel_diff.c tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_diff.c tests/kernel/kernel_bpf.c $(STATIC_LIB) -lbpf $(LDLIBS)

# BPF C test programs (tests/progs/*.bpf.c), built by clang before the tests run.
$(BUILD)/progs/%.bpf.o: tests/progs/%.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O2 -target bpf -mcpu=v3 -I/usr/include/$(shell uname -m)-linux-gnu -c $< -o $@

# Loader differential tests: tests/progs/run_*.bpf.o in the kernel and in comb.
$(BUILD)/kernel-progs: tests/kernel/kernel_progs.c tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_progs.c tests/kernel/kernel_bpf.c $(STATIC_LIB) -lbpf $(LDLIBS)

# LPM_TRIE, QUEUE, STACK and BLOOM_FILTER against the kernel's maps.
$(BUILD)/kernel-maptypes: tests/kernel/kernel_maptypes.c $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_maptypes.c $(STATIC_LIB) $(LDLIBS)

# comb's object reader against libbpf's on the real objects of this machine.
$(BUILD)/object-compare: tests/kernel/object_compare.c tests/kernel/bpf_images.c tests/kernel/bpf_images.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/object_compare.c tests/kernel/bpf_images.c $(STATIC_LIB) $(LDLIBS)

# comb's CO-RE against libbpf's (loaded into the kernel) on the same objects.
$(BUILD)/core-compare: tests/kernel/core_compare.c tests/kernel/bpf_images.c tests/kernel/bpf_images.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/core_compare.c tests/kernel/bpf_images.c $(STATIC_LIB) $(LDLIBS)

# ARRAY, HASH and their per-CPU and LRU variants against the kernel's maps.
$(BUILD)/kernel-maps: tests/kernel/kernel_maps.c $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_maps.c $(STATIC_LIB) $(LDLIBS)

# Runs an object's program against a pinned ring buffer (tests/e2e/ringbuf.sh).
$(BUILD)/e2e/ringbuf-producer: tests/e2e/ringbuf_producer.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC_LIB) $(LDLIBS)

# Context access rules (src/verifier/ctx_desc.c) against the kernel verifier's verdicts.
$(BUILD)/kernel-ctx: tests/kernel/kernel_ctx.c $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_ctx.c $(STATIC_LIB) $(LDLIBS)

# comb's verifier against the kernel's on tests/progs/verify_*.bpf.c.
$(BUILD)/kernel-verdicts: tests/kernel/kernel_verdicts.c tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_verdicts.c tests/kernel/kernel_bpf.c $(STATIC_LIB) $(LDLIBS)

# comb's verifier on the real programs of this machine: accept what the kernel accepts.
$(BUILD)/real-verdicts: tests/kernel/real_verdicts.c tests/kernel/real_corpus.c tests/kernel/real_corpus.h tests/kernel/bpf_images.c tests/kernel/bpf_images.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/real_verdicts.c tests/kernel/real_corpus.c tests/kernel/bpf_images.c $(STATIC_LIB) $(LDLIBS)

# XDP helpers (tests/progs/xdp_helpers*.bpf.c) in comb against the kernel's.
$(BUILD)/kernel-xdp: tests/kernel/kernel_xdp.c tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_xdp.c tests/kernel/kernel_bpf.c $(STATIC_LIB) $(LDLIBS)

# bpf_fib_lookup in comb (a route file) against the kernel (a network namespace's routes).
$(BUILD)/kernel-fib: tests/kernel/kernel_fib.c $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/kernel_fib.c $(STATIC_LIB) $(LDLIBS)

# xdp-filter's 10 variants (Debian's libxdp1) in comb and in the kernel, packet by packet.
$(BUILD)/xdp-filter-compare: tests/kernel/xdp_filter_compare.c $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/xdp_filter_compare.c $(STATIC_LIB) $(LDLIBS)

TEST_BINS := $(BUILD)/unit-tests $(BUILD)/kernel-diff $(BUILD)/kernel-progs $(BUILD)/object-compare $(BUILD)/core-compare $(BUILD)/kernel-maptypes $(PROGS) $(BUILD)/kernel-maps $(BUILD)/e2e/ringbuf-producer $(BUILD)/kernel-ctx $(BUILD)/kernel-verdicts $(BUILD)/real-verdicts $(BUILD)/kernel-xdp $(BUILD)/xdp-filter-compare
TEST_BINS += $(BUILD)/kernel-fib

# Example XDP programs (examples/NAME/*.bpf.c -> $(BUILD)/examples/NAME/*.bpf.o).
EXAMPLE_PROGS := $(patsubst examples/%.bpf.c,$(BUILD)/examples/%.bpf.o,$(sort $(wildcard examples/*/*.bpf.c)))
$(BUILD)/examples/%.bpf.o: examples/%.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O2 -target bpf -mcpu=v3 -I/usr/include/$(shell uname -m)-linux-gnu -c $< -o $@
TEST_BINS += $(EXAMPLE_PROGS)

# Verifier soundness: generated programs comb accepts never fault in the checked engine.
$(BUILD)/verifier-soundness: tests/kernel/verifier_soundness.c tests/kernel/soundness_gen.c tests/kernel/soundness_gen.h $(STATIC_LIB)
	$(CC) $(ALL_CFLAGS) -o $@ tests/kernel/verifier_soundness.c tests/kernel/soundness_gen.c $(STATIC_LIB) $(LDLIBS)
TEST_BINS += $(BUILD)/verifier-soundness

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@BUILD=$(BUILD) CONFORMANCE_DIR=$(CONFORMANCE_DIR) tests/run.sh
check: test

demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory all $(EXAMPLE_PROGS)
	@examples/demo.sh $(COMB)

# Benchmarks: BPF C programs built by clang for the kernel, the same sources
# built natively, run side by side in interleaved rounds.
BENCH_PROGS := $(sort $(wildcard bench/progs/*.bpf.c))
BENCH_BINS  := $(BENCH_PROGS:bench/progs/%.bpf.c=$(BUILD)/bench/%.bin)
BENCH_OBJS  := $(BENCH_PROGS:bench/progs/%.bpf.c=$(BUILD)/bench/%.bpf.o)

$(BUILD)/bench/%.bpf.o: bench/progs/%.bpf.c bench/progs/compute.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -target bpf -mcpu=v3 -I/usr/include/$(shell uname -m)-linux-gnu -c $< -o $@

$(BUILD)/bench/%.bin: $(BUILD)/bench/%.bpf.o
	$(LLVM_OBJCOPY) -O binary --only-section=xdp $< $@

# Stand-alone benchmarks (own main()) are kept out of comb-bench.
BENCH_SOLO := bench/ringbuf_bench.c bench/map_bench.c bench/loader_bench.c bench/verifier_bench.c bench/xdp_bench.c
BENCH_MAIN_SRCS = $(filter-out $(BENCH_SOLO),$(wildcard bench/*.c))
$(BUILD)/bench/comb-bench: $(BENCH_MAIN_SRCS) $(wildcard bench/*.h) bench/progs/compute.h tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ibench -o $@ $(BENCH_MAIN_SRCS) tests/kernel/kernel_bpf.c $(STATIC_LIB) -lbpf $(LDLIBS)

# Ring buffer throughput, comb against the kernel's ring buffer.
$(BUILD)/bench/ringbuf-bench: bench/ringbuf_bench.c tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ bench/ringbuf_bench.c tests/kernel/kernel_bpf.c $(STATIC_LIB) -lbpf $(LDLIBS) -lpthread

# Map operations and memory per entry, comb against the kernel.
$(BUILD)/bench/map-bench: bench/map_bench.c bench/stats.c bench/stats.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ bench/map_bench.c bench/stats.c $(STATIC_LIB) $(LDLIBS)

# Open + load of the largest libbpf-tools object: comb against libbpf.
$(BUILD)/bench/loader-bench: bench/loader_bench.c bench/stats.c bench/stats.h tests/kernel/bpf_images.c tests/kernel/bpf_images.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ bench/loader_bench.c bench/stats.c tests/kernel/bpf_images.c $(STATIC_LIB) $(LDLIBS)

# comb's verifier against the kernel's verification time on the real-program corpus.
$(BUILD)/bench/verifier-bench: bench/verifier_bench.c bench/stats.c bench/stats.h bench/jit_time.c bench/jit_time.h tests/kernel/kernel_bpf.c tests/kernel/kernel_bpf.h tests/kernel/real_corpus.c tests/kernel/real_corpus.h tests/kernel/bpf_images.c tests/kernel/bpf_images.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ bench/verifier_bench.c bench/stats.c bench/jit_time.c tests/kernel/kernel_bpf.c tests/kernel/real_corpus.c tests/kernel/bpf_images.c $(STATIC_LIB) $(LDLIBS)

# XDP packets/s: comb's runner (JIT) against the kernel's BPF_PROG_TEST_RUN.
$(BUILD)/bench/xdp-bench: bench/xdp_bench.c bench/stats.c bench/stats.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ bench/xdp_bench.c bench/stats.c $(STATIC_LIB) $(LDLIBS)

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all $(BENCH_OBJS) $(BENCH_BINS) $(BUILD)/bench/comb-bench $(BUILD)/bench/ringbuf-bench $(BUILD)/bench/map-bench $(BUILD)/bench/loader-bench $(BUILD)/bench/verifier-bench $(BUILD)/bench/xdp-bench $(BUILD)/progs/verify_widen.bpf.o
	@$(BUILD)/bench/comb-bench --dir $(BUILD)/bench
	@$(BUILD)/bench/xdp-bench
	@$(BUILD)/bench/loader-bench
	@$(BUILD)/bench/ringbuf-bench
	@$(BUILD)/bench/map-bench --obj $(BUILD)/bench/map_ops.bpf.o
	@$(BUILD)/bench/verifier-bench --widen $(BUILD)/progs/verify_widen.bpf.o

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CC=$(FUZZ_CC) \
		CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		test

# libFuzzer targets: `make fuzz` builds each and runs it for FUZZ_SECONDS.
FUZZ_SRCS    := $(wildcard fuzz/*.c)
FUZZ_BINS    := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 30
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		mkdir -p $$f.corpus; \
		echo "fuzzing $$f for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 $$f.corpus 2>&1 \
			| grep -E 'stat::number_of_executed_units|ERROR|runtime error|Done' || true; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
$(BUILD)/fuzz/%: fuzz/%.c $(LIB_SRCS) $(HEADERS)
	@scripts/deps.sh fuzz
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/comb \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcomb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcomb.so.$(SOVERSION)
	ln -sf libcomb.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcomb.so
	install -m 644 include/comb/*.h $(DESTDIR)$(PREFIX)/include/comb/
	install -m 755 $(COMB) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 doc/comb.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' doc/comb.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/comb.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libcomb.* $(DESTDIR)$(PREFIX)/bin/comb \
		$(DESTDIR)$(PREFIX)/share/man/man1/comb.1 $(DESTDIR)$(PREFIX)/lib/pkgconfig/comb.pc
	rm -rf $(DESTDIR)$(PREFIX)/include/comb

clean:
	rm -rf build build-asan
