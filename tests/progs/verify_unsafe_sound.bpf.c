/* tests/progs/verify_unsafe_sound.bpf.c - unsafe programs found by the
 * soundness fuzzing (tests/kernel/verifier_soundness.c), minimized.
 *
 * Each is a program comb's verifier accepted although its checked run
 * faults; the kernel rejects each. tests/kernel/kernel_verdicts.c checks
 * that the kernel and comb_verify both reject them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[8]);
} sound_values SEC(".maps");

#define NAKED(sec, name) SEC(sec) __attribute__((naked)) int name(void)

/* bpf_xdp_adjust_head moves data: every packet pointer taken before the call
 * is stale (the kernel: "R7 invalid mem access 'scalar'"). Checking the old
 * pointer against the old data_end proves nothing; with delta 16 the read is
 * 16 bytes before the new data, outside the packet. */
NAKED("xdp", unsafe_pkt_ptr_after_adjust_head)
{
	asm volatile("r6 = r1;"
		     "r7 = *(u32 *)(r6 + 0);"
		     "r8 = *(u32 *)(r6 + 4);"
		     "r1 = r6;"
		     "r2 = 16;"
		     "call %[adjust_head];"
		     "r1 = r7;"
		     "r1 += 2;"
		     "if r1 > r8 goto 1f;"
		     "r0 = *(u16 *)(r7 + 0);"
		     "1: r0 = 2;"
		     "exit;"
		     :: [adjust_head] "i"(BPF_FUNC_xdp_adjust_head) : "memory");
}

/* An atomic add on a map value at an offset not aligned to its size (the
 * kernel: "misaligned value access off (0x0; 0x0)+0+4 size 8"; comb's
 * checked engine faults on it too). */
NAKED("socket", unsafe_atomic_misaligned_map_value)
{
	asm volatile("r1 = 0;"
		     "*(u32 *)(r10 - 4) = r1;"
		     "r2 = r10;"
		     "r2 += -4;"
		     "r1 = %[map] ll;"
		     "call %[lookup];"
		     "if r0 == 0 goto 1f;"
		     "r1 = 1;"
		     "lock *(u64 *)(r0 + 4) += r1;"
		     "1: r0 = 0;"
		     "exit;"
		     :: [map] "i"(&sound_values), [lookup] "i"(BPF_FUNC_map_lookup_elem) : "memory");
}
