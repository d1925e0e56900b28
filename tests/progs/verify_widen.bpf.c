/* tests/progs/verify_widen.bpf.c - loops too long to explore unrolled.
 *
 * The kernel rejects every program here for its complexity limit ("BPF
 * program is too large", 1,000,001 instructions processed) or as an
 * infinite loop. comb's verifier, after its own unrolled walk runs out of
 * the same budget, widens the loop heads (src/verifier/widen.c):
 *   widen_*    are safe and end: comb must accept them (and they run in
 *              comb's checked engine and JIT without a fault);
 *   unsafe_*   are unsafe or may not end: comb must reject them too;
 *   unproven_* are safe, but only an unrolled walk shows it: comb rejects.
 * tests/kernel/kernel_verdicts.c checks the verdicts against the kernel's,
 * and comb's reasons against the words its widen_reasons table gives.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} widen_vals SEC(".maps");

#define NAKED(sec, name) SEC(sec) __attribute__((naked)) int name(void)

/* r9 = the map value (u64[8]), or return XDP_PASS. */
#define LOOKUP                                  \
	"r1 = 0;"                               \
	"*(u32 *)(r10 - 4) = r1;"               \
	"r2 = r10;"                             \
	"r2 += -4;"                             \
	"r1 = %[map] ll;"                       \
	"call %[lookup];"                       \
	"if r0 == 0 goto 9f;"                   \
	"r9 = r0;"
#define DONE "9: r0 = 2;" "exit;"
#define ARGS [map] "i"(&widen_vals), [lookup] "i"(BPF_FUNC_map_lookup_elem)

/* 300,000 increments of value[i & 7]: a variable index kept in bounds by a mask. */
NAKED("xdp", widen_map_index_masked)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "1: r1 = r6;"
		     "r1 &= 7;"
		     "r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "r3 += 1;"
		     "*(u64 *)(r2 + 0) = r3;"
		     "r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* A 32-bit counter counting down from 400,000, with an exit that depends on
 * the data (a value equal to 12345 ends the loop early). */
NAKED("xdp", widen_down_early_exit)
{
	asm volatile(LOOKUP
		     "w6 = 400000;"
		     "r7 = 0;"
		     "1: r1 = r6;"
		     "r1 &= 7;"
		     "r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "if r3 == 12345 goto 2f;"
		     "r7 += r3;"
		     "w6 -= 1;"
		     "if w6 != 0 goto 1b;"
		     "2: *(u64 *)(r9 + 0) = r7;"
		     DONE :: ARGS : "memory");
}

/* Several paths per iteration (the counter moves by 1 or by 2), stack and
 * map accesses, the counter kept on the stack. */
NAKED("xdp", widen_paths_stack_counter)
{
	asm volatile(LOOKUP
		     "r1 = 0;"
		     "*(u64 *)(r10 - 16) = r1;"
		     "*(u64 *)(r10 - 24) = r1;"
		     "1: r6 = *(u64 *)(r10 - 16);"
		     "r1 = r6;"
		     "r1 &= 7;"
		     "r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "if r3 & 1 goto 2f;"
		     "r4 = *(u64 *)(r10 - 24);"
		     "r4 += r3;"
		     "*(u64 *)(r10 - 24) = r4;"
		     "r6 += 2;"
		     "goto 3f;"
		     "2: r3 += 1;"
		     "*(u64 *)(r2 + 0) = r3;"
		     "r6 += 1;"
		     "3: if r3 > 100 goto 4f;"
		     "r3 = *(u64 *)(r9 + 8);"
		     "4: *(u64 *)(r10 - 16) = r6;"
		     "if r6 < 500000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* Packet bytes at a masked offset, each read after its bounds test. */
NAKED("xdp", widen_packet_reads)
{
	asm volatile("r2 = *(u32 *)(r1 + 0);"
		     "r3 = *(u32 *)(r1 + 4);"
		     "r6 = 0;"
		     "r7 = 0;"
		     "1: r4 = r6;"
		     "r4 &= 31;"
		     "r5 = r2;"
		     "r5 += r4;"
		     "r0 = r5;"
		     "r0 += 1;"
		     "if r0 > r3 goto 2f;"
		     "r0 = *(u8 *)(r5 + 0);"
		     "r7 += r0;"
		     "r6 += 1;"
		     "if r6 < 200000 goto 1b;"
		     "2: r0 = 2;"
		     "exit;" ::: "memory");
}

/* Two nested loops, 1,000 x 1,000, in a bpf-to-bpf function. */
static __attribute__((noinline)) int nested_sum(__u64 *vals)
{
	__u64 sum = 0;
	for (int i = 0; i < 1000; i++)
		for (int j = 0; j < 1000; j++)
			sum += vals[(i + j) & 7];
	vals[0] = sum;
	return 0;
}

SEC("xdp")
int widen_nested_in_function(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *vals = bpf_map_lookup_elem(&widen_vals, &key);
	if (!vals)
		return XDP_PASS;
	nested_sum(vals);
	return XDP_PASS;
}

/* A loop in C as clang writes it. */
SEC("xdp")
int widen_c_loop(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *vals = bpf_map_lookup_elem(&widen_vals, &key);
	if (!vals)
		return XDP_PASS;
	for (__u32 i = 0; i < 250000; i++) {
		__u64 v = vals[i % 8];
		if (v > 1000)
			vals[(i + 3) % 8] = v / 2;
		else
			vals[i % 8] = v + i;
	}
	return XDP_PASS;
}

/* --- unsafe, or not provably ending --------------------------------------- */

/* Index 9 of an 8-entry value, only on the 300,000th iteration. */
NAKED("xdp", unsafe_widen_oob_late)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "1: r1 = r6;"
		     "r1 &= 7;"
		     "if r6 != 299999 goto 2f;"
		     "r1 = 9;"
		     "2: r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* An offset that grows with the counter, past the 64-byte value. */
NAKED("xdp", unsafe_widen_index_grows)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "r7 = 0;"
		     "1: r2 = r9;"
		     "r2 += r7;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "r7 += 8;"
		     "r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* An index that grows with the counter, slowly: (r6 >> 15) * 8 passes the
 * value's last u64 (index 7) only after 262,144 iterations. */
NAKED("xdp", unsafe_widen_index_grows_late)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "1: r1 = r6;"
		     "r1 >>= 15;"
		     "r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* The counter goes back to 0 when the value says so: may never end. */
NAKED("xdp", unsafe_widen_counter_reset)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "if r3 != 7 goto 2f;"
		     "r6 = 0;"
		     "2: r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* A 32-bit counter that only ends when the data says so: it wraps around. */
NAKED("xdp", unsafe_widen_counter_wraps)
{
	asm volatile(LOOKUP
		     "w6 = 0;"
		     "1: r1 = r6;"
		     "r1 &= 7;"
		     "r1 <<= 3;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "if r3 == 42 goto 9f;"
		     "w6 += 1;"
		     "goto 1b;"
		     DONE :: ARGS : "memory");
}

/* Step 0: the counter never moves (another register does, unbounded). */
NAKED("xdp", unsafe_widen_step_zero)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "r7 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "r7 += r3;"
		     "r7 += 1;"
		     "r6 += 0;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* The bound comes from the map: up to 2^64 iterations. */
NAKED("xdp", unsafe_widen_bound_not_constant)
{
	asm volatile(LOOKUP
		     "r8 = *(u64 *)(r9 + 8);"
		     "r6 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "r3 += 1;"
		     "*(u64 *)(r9 + 0) = r3;"
		     "r6 += 1;"
		     "if r6 < r8 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* The counter is compared only on the path where the value is odd. */
NAKED("xdp", unsafe_widen_bound_some_paths)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "r6 += 1;"
		     "if r3 & 1 goto 2f;"
		     "goto 1b;"
		     "2: if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* As unsafe_widen_counter_reset, with a count of iterations that makes every
 * state new (so no state repeats): the widened walk finds no counter. */
NAKED("xdp", unsafe_widen_counter_reset_data)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "r7 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "r7 += 1;"
		     "*(u64 *)(r9 + 8) = r7;"
		     "if r3 != 7 goto 2f;"
		     "r6 = 0;"
		     "2: r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* Step 0, with a count of iterations that makes every state new. */
NAKED("xdp", unsafe_widen_step_zero_data)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "r7 = 0;"
		     "1: r7 += 1;"
		     "*(u64 *)(r9 + 8) = r7;"
		     "r6 += 0;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* The bound is a 32-bit number from the map: the loop ends, but only after
 * up to 2^32 iterations. */
NAKED("xdp", unsafe_widen_bound_u32)
{
	asm volatile(LOOKUP
		     "r8 = *(u32 *)(r9 + 8);"
		     "r6 = 0;"
		     "1: r3 = *(u64 *)(r9 + 0);"
		     "r3 += 1;"
		     "*(u64 *)(r9 + 0) = r3;"
		     "r6 += 1;"
		     "if r6 < r8 goto 1b;"
		     DONE :: ARGS : "memory");
}

/* Safe, but only unrolled: r7 and r8 swap 0 and 1, so their sum is always 1
 * (offset 32); widened, each is 0 or 1 and the sum may be 2 (offset 64, past
 * the value). The widened walk cannot prove it and must refuse. */
NAKED("xdp", unproven_widen_relational)
{
	asm volatile(LOOKUP
		     "r6 = 0;"
		     "r7 = 0;"
		     "r8 = 1;"
		     "1: r1 = r7;"
		     "r7 = r8;"
		     "r8 = r1;"
		     "r1 = r7;"
		     "r1 += r8;"
		     "r1 <<= 5;"
		     "r2 = r9;"
		     "r2 += r1;"
		     "r3 = *(u64 *)(r2 + 0);"
		     "r6 += 1;"
		     "if r6 < 300000 goto 1b;"
		     DONE :: ARGS : "memory");
}
