/* tests/progs/core_target.bpf.c - the "target" layout for core_fields.bpf.c:
 * x vanished, y moved and shrank, z moved, the bitfields swapped places,
 * CORE_RED vanished and CORE_GREEN changed value. Only its BTF is used. */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct core_point {
	long long z;
	short y;
	char pad;
	unsigned int mode : 5, flags : 4;
	int arr[4];
	union { int inner; long long wide; };
};

enum core_color { CORE_GREEN = 7, CORE_BLUE = 8 };
enum core_big { CORE_BIG = 0x200000000ULL };

struct core_point core_target_point;
enum core_color core_target_color;
enum core_big core_target_big;

char LICENSE[] SEC("license") = "GPL";
