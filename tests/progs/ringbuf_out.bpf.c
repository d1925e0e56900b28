/* tests/progs/ringbuf_out.bpf.c - one record per run into a RINGBUF map.
 *
 * Each run outputs { seq, magic } with bpf_ringbuf_output and returns its
 * result (0, or a negative errno when the ring is full); seq counts the
 * records that went in, so a consumer can check that none was lost or
 * reordered. Used by tests/e2e/ringbuf.sh with a pinned `events` map.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} events SEC(".maps");

struct record {
	__u64 seq;
	__u64 magic;
};

__u64 next_seq;

SEC("xdp")
int output_record(struct xdp_md *ctx)
{
	struct record rec = { .seq = next_seq, .magic = 0x636f6d6272696e67ull /* "combring" */ };
	long rc = bpf_ringbuf_output(&events, &rec, sizeof(rec), 0);
	if (rc == 0)
		next_seq++;
	return (int)rc;
}

char LICENSE[] SEC("license") = "GPL";
