/* tests/progs/helpers_misc.bpf.c - the task, probe, string, lock and
 * callback helpers from a clang-built program. Results go to the `results`
 * array (numbers, by the R_* index) and `texts` (strings), which
 * tests/unit/test_helpers_misc.c reads after each run. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map;

enum {
	R_PID_TGID, R_UID_GID, R_STRTOL_RC, R_STRTOL, R_STRTOUL_RC, R_STRTOUL, R_SNPRINTF_RC,
	R_STRNCMP, R_LOOP_CALLS, R_LOOP_SUM, R_EACH_CALLS, R_EACH_SUM, R_PROBE_ADDR, R_PROBE_RC,
	R_PROBE_VALUE, R_PROBE_STR_RC, R_COUNT
};
enum { T_COMM, T_FORMATTED, T_PROBE_STR, T_COUNT };

struct text {
	char s[64];
};

struct counter {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, R_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} results SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, T_COUNT);
	__type(key, __u32);
	__type(value, struct text);
} texts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counter);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} numbers SEC(".maps");

static __u64 *result(__u32 index)
{
	return bpf_map_lookup_elem(&results, &index);
}

static char *text(__u32 index)
{
	struct text *t = bpf_map_lookup_elem(&texts, &index);
	return t ? t->s : 0;
}

static void set(__u32 index, __u64 value)
{
	__u64 *r = result(index);
	if (r)
		*r = value;
}

SEC("xdp")
int task_info(struct xdp_md *ctx)
{
	char *comm = text(T_COMM);
	set(R_PID_TGID, bpf_get_current_pid_tgid());
	set(R_UID_GID, bpf_get_current_uid_gid());
	if (comm)
		bpf_get_current_comm(comm, 16);
	return 0;
}

SEC("xdp")
int strings(struct xdp_md *ctx)
{
	static const char number[] = "  -0x1F rest";
	static const char decimal[] = "4096";
	static const char fmt[] = "%d-%s-%x";
	char word[8] = "comb";
	__u64 args[3];
	args[0] = (__u64)-7;
	args[1] = (__u64)(unsigned long)word; /* a pointer known at run time only */
	args[2] = 255;
	long parsed_long = 0;
	unsigned long parsed_ulong = 0;
	char *out = text(T_FORMATTED);
	if (!out)
		return 1;
	set(R_STRTOL_RC, bpf_strtol(number, sizeof(number) - 1, 0, &parsed_long));
	set(R_STRTOL, parsed_long);
	set(R_STRTOUL_RC, bpf_strtoul(decimal, sizeof(decimal) - 1, 10, &parsed_ulong));
	set(R_STRTOUL, parsed_ulong);
	set(R_SNPRINTF_RC, bpf_snprintf(out, 64, fmt, args, sizeof(args)));
	set(R_STRNCMP, bpf_strncmp(out, 4, "-7-d"));
	return 0;
}

static long add_index(__u32 index, void *ctx)
{
	__u64 *sum = ctx;
	*sum += index;
	return index == 9; /* stop after index 9 */
}

static long add_number(struct bpf_map *map, __u32 *key, __u64 *value, void *ctx)
{
	__u64 *sum = ctx;
	*sum += *value;
	return 0;
}

SEC("xdp")
int callbacks(struct xdp_md *ctx)
{
	__u64 loop_sum = 0, each_sum = 0;
	set(R_LOOP_CALLS, bpf_loop(100, add_index, &loop_sum, 0));
	set(R_LOOP_SUM, loop_sum);
	set(R_EACH_CALLS, bpf_for_each_map_elem(&numbers, add_number, &each_sum, 0));
	set(R_EACH_SUM, each_sum);
	return 0;
}

SEC("xdp")
int locked_add(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct counter *c = bpf_map_lookup_elem(&counters, &key);
	if (!c)
		return 1;
	bpf_spin_lock(&c->lock);
	c->count++;
	bpf_spin_unlock(&c->lock);
	return 0;
}

SEC("xdp")
int probe(struct xdp_md *ctx)
{
	__u64 *addr = result(R_PROBE_ADDR);
	char *str = text(T_PROBE_STR);
	__u64 value = 0;
	if (!addr || !str)
		return 1;
	set(R_PROBE_RC, bpf_probe_read_user(&value, sizeof(value), (void *)*addr));
	set(R_PROBE_VALUE, value);
	set(R_PROBE_STR_RC, bpf_probe_read_user_str(str, 8, (void *)*addr));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
