/* tests/progs/btf_kinds.bpf.c - BTF of every kind clang emits, for `comb btf dump` tests. */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define __tag(x) __attribute__((btf_decl_tag(x)))
#define __ttag(x) __attribute__((btf_type_tag(x)))

enum small { SMALL_A = 1, SMALL_B = -2 };
enum big { BIG_A = 0x100000000ULL, BIG_B = 3 };
typedef unsigned int u32_t;
union u { int i; float f; };
struct inner { char c; short s; };
struct kinds {
	volatile int v;
	const long l;
	u32_t flags : 3, mode : 5;
	struct inner in[2];
	union u un;
	enum small e;
	enum big b;
	double d;
	int __ttag("user") *p;
	struct { int x; } anon;
	struct fwd_only *fwd;
	int tagged __tag("field");
} __tag("kinds");

struct kinds g_kinds SEC(".data");
int g_counter = 1;

__attribute__((noinline)) __tag("func") int helper_fn(struct kinds *k __tag("param"), int x)
{
	return k->v + x;
}

SEC("xdp")
int btf_kinds_prog(void *ctx)
{
	return helper_fn(&g_kinds, g_counter) + g_kinds.un.i;
}

char LICENSE[] SEC("license") = "GPL";
