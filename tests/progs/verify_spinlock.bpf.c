/* tests/progs/verify_spinlock.bpf.c - bpf_spin_lock pairing, against the
 * kernel's verifier.
 *
 * safe_* programs take the lock of a map value (the struct bpf_spin_lock
 * field the map's BTF describes), touch the value and release it on every
 * path; unsafe_* ones break one rule each: a path that exits holding the
 * lock, a helper call while holding it, two locks at once, an unlock
 * without lock or of another value's lock, a pointer that is not the lock
 * field, a value without a lock, the lock field read directly.
 * tests/kernel/kernel_verdicts.c compares comb's verdicts with the kernel's.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct locked {
	__u64 hits;
	struct bpf_spin_lock lock;
	__u32 a, b;
};

struct plain {
	__u64 hits;
	__u32 a, b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct locked);
} locked_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct locked);
} locked_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct plain);
} plain_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

static __always_inline struct locked *get(void *map, __u32 k)
{
	return bpf_map_lookup_elem(map, &k);
}

SEC("tc") int safe_lock_basic(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int safe_lock_branches(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_array, 0);
	if (!v)
		return 0;
	__u32 len = skb->len;
	bpf_spin_lock(&v->lock);
	if (len > 100)
		v->a += len;
	else
		v->b++;
	v->hits++;
	bpf_spin_unlock(&v->lock);
	return len > 100;
}

SEC("tc") int safe_lock_twice_in_turn(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_array, 1), *w = get(&locked_map, 2);
	if (!v || !w)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	bpf_spin_unlock(&v->lock);
	bpf_spin_lock(&w->lock);
	w->hits += 2;
	bpf_spin_unlock(&w->lock);
	return 0;
}

SEC("tc") int unsafe_lock_exit_holding(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	__u32 len = skb->len;
	bpf_spin_lock(&v->lock);
	if (len > 100)
		return 1; /* still holding the lock */
	v->hits++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_lock_never_released(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_array, 0);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	return 0;
}

SEC("tc") int unsafe_lock_helper_call(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits = bpf_ktime_get_ns();
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_lock_map_lookup_inside(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	__u32 k = 2;
	struct plain *p = bpf_map_lookup_elem(&plain_array, &k);
	if (p)
		v->hits = p->hits;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_lock_two_held(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_array, 1), *w = get(&locked_map, 2);
	if (!v || !w)
		return 0;
	bpf_spin_lock(&v->lock);
	bpf_spin_lock(&w->lock);
	v->hits++;
	bpf_spin_unlock(&w->lock);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_unlock_without_lock(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	v->hits++;
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_unlock_other_value(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_array, 1), *w = get(&locked_map, 2);
	if (!v || !w)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	bpf_spin_unlock(&w->lock);
	return 0;
}

SEC("tc") int unsafe_lock_wrong_field(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&v->a);
	v->hits++;
	bpf_spin_unlock((struct bpf_spin_lock *)&v->a);
	return 0;
}

SEC("tc") int unsafe_lock_value_without_lock(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct plain *p = bpf_map_lookup_elem(&plain_array, &k);
	if (!p)
		return 0;
	bpf_spin_lock((struct bpf_spin_lock *)&p->a);
	p->hits++;
	bpf_spin_unlock((struct bpf_spin_lock *)&p->a);
	return 0;
}

SEC("tc") int unsafe_lock_on_stack(struct __sk_buff *skb)
{
	struct bpf_spin_lock l = {};
	bpf_spin_lock(&l);
	bpf_spin_unlock(&l);
	return 0;
}

SEC("tc") int unsafe_lock_read_directly(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	return *(volatile __u32 *)&v->lock;
}

static __attribute__((noinline)) int bump(struct locked *v)
{
	if (!v)
		return 0;
	v->hits++;
	return 0;
}

/* The kernel allows calls of static functions in the locked region. */
SEC("tc") int safe_lock_static_subprog_call(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	bump(v);
	bpf_spin_unlock(&v->lock);
	return 0;
}

static __attribute__((noinline)) int stamp(struct locked *v)
{
	if (!v)
		return 0;
	v->hits = bpf_ktime_get_ns();
	return 0;
}

SEC("tc") int unsafe_lock_helper_in_subprog(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	stamp(v);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("tc") int unsafe_lock_tail_call_inside(struct __sk_buff *skb)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	bpf_tail_call(skb, &jump_table, 0);
	bpf_spin_unlock(&v->lock);
	return 0;
}

SEC("kprobe/do_nanosleep") int unsafe_lock_in_tracing(void *ctx)
{
	struct locked *v = get(&locked_map, 1);
	if (!v)
		return 0;
	bpf_spin_lock(&v->lock);
	v->hits++;
	bpf_spin_unlock(&v->lock);
	return 0;
}
