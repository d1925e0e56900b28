/* tests/progs/core_fields.bpf.c - CO-RE relocations of every kind against
 * a local layout; tests/unit/test_core.c relocates them against the layout
 * of core_target.bpf.c (fields moved, resized, vanished) and vmlinux. */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct core_point {
	int x;
	int y;
	long long z;
	unsigned int flags : 4, mode : 3;
	struct { int inner; };
	int arr[4];
} __attribute__((preserve_access_index));

struct core_point___gone {
	int missing_field;
} __attribute__((preserve_access_index));

enum core_color { CORE_RED = 1, CORE_GREEN = 2 };
enum core_big { CORE_BIG = 0x100000000ULL };
typedef int core_local_only_t;

struct task_struct {
	int pid;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_fields(struct core_point *p)
{
	__u64 *out = (__u64 *)p;
	out[0] = bpf_core_field_offset(p->y);
	out[1] = bpf_core_field_size(p->z);
	out[2] = bpf_core_field_exists(p->x);
	out[3] = __builtin_preserve_field_info(p->y, BPF_FIELD_SIGNED);
	out[4] = __builtin_preserve_field_info(p->mode, BPF_FIELD_LSHIFT_U64);
	out[5] = __builtin_preserve_field_info(p->mode, BPF_FIELD_RSHIFT_U64);
	out[6] = bpf_core_type_id_local(struct core_point);
	out[7] = bpf_core_type_id_kernel(struct core_point);
	out[8] = bpf_core_type_exists(struct core_point);
	out[9] = bpf_core_type_size(struct core_point);
	out[10] = bpf_core_enum_value_exists(enum core_color, CORE_RED);
	out[11] = bpf_core_enum_value(enum core_color, CORE_GREEN);
	out[12] = bpf_core_type_matches(struct core_point);
	out[13] = bpf_core_field_offset(p->inner);
	out[14] = bpf_core_field_offset(p->arr[2]);
	out[15] = bpf_core_type_exists(core_local_only_t);
	out[16] = bpf_core_enum_value(enum core_big, CORE_BIG);
	return p->z; /* LDX whose offset and size are relocated */
}

SEC("xdp")
int core_missing(struct core_point___gone *g)
{
	if (bpf_core_field_exists(g->missing_field))
		return g->missing_field; /* poisoned: the field is not in the target */
	return 7;
}

SEC("xdp")
int core_vmlinux(struct task_struct *t)
{
	return bpf_core_field_offset(t->pid);
}

char LICENSE[] SEC("license") = "GPL";
