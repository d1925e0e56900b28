/* src/hooks/xdp/helpers.c - the XDP helpers, with the kernel's argument
 * checks and return values (net/core/filter.c, Linux 6.18; each rule below
 * is checked against the kernel by tests/kernel/kernel_xdp.c).
 *
 * The packet helpers act on the runner's frame (struct xdp_frame_state, the
 * kernel's xdp_buff), found through the run's hook data; called outside an
 * XDP run (or with r1 not the run's context) they answer -EINVAL.
 *  - adjust_head(off): data may move down to the end of the reserved
 *    struct xdp_frame plus the metadata, and up to data_end - 14; the
 *    metadata moves along with data.
 *  - adjust_meta(off): data_meta between the reserved area and data; the
 *    metadata length must be a multiple of 4 and at most 32 (-EACCES).
 *  - adjust_tail(off): data_end between data + 14 and the frame's end less
 *    the tailroom; grown bytes are zeroed.
 *  - load/store_bytes(off, buf, len): offset or len above 0xffff is -EFAULT,
 *    off + len beyond the packet -EINVAL.
 *  - csum_diff works on any memory (tc programs use it too): the 6.18
 *    kernel's x86-64 arithmetic, csum_partial() then folded to 16 bits.
 *  - redirect(ifindex, flags): any flag makes it XDP_ABORTED in XDP; in
 *    other runs (tc) it follows the skb variant: flags beyond BPF_F_INGRESS
 *    are TC_ACT_SHOT, else TC_ACT_REDIRECT.
 *  - redirect_map(map, key, flags): flags beyond the low two bits (the
 *    fallback action) are XDP_ABORTED, except BPF_F_BROADCAST and
 *    BPF_F_EXCLUDE_INGRESS on a DEVMAP / DEVMAP_HASH. A missing entry
 *    returns the fallback and clears the target. comb stores these maps as
 *    arrays/hashes of u32 (or the kernel's value structs), so an entry is
 *    present when its first u32 is not 0: DEVMAP ifindex, CPUMAP queue
 *    size, XSKMAP socket (user space writes any non-zero value, e.g. an fd,
 *    for a bound queue). A broadcast is REDIRECT even without the key; the
 *    target then carries the map and the flags, and the caller fans it out.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "helpers/helpers.h"
#include "hooks/xdp/internal.h"
#include "maps/internal.h"

enum {
	HELPER_REDIRECT = 23,
	HELPER_CSUM_DIFF = 28,
	HELPER_XDP_ADJUST_HEAD = 44,
	HELPER_REDIRECT_MAP = 51,
	HELPER_XDP_ADJUST_META = 54,
	HELPER_XDP_ADJUST_TAIL = 65,
	HELPER_XDP_GET_BUFF_LEN = 188,
	HELPER_XDP_LOAD_BYTES = 189,
	HELPER_XDP_STORE_BYTES = 190,
};

#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7
#define XDP_ACTION_MASK 3ull
#define REDIRECT_FLAG_INGRESS (1ull << 0)
#define REDIRECT_FLAG_BROADCAST (1ull << 3)
#define REDIRECT_FLAG_EXCLUDE_INGRESS (1ull << 4)
#define XDP_BYTES_MAX 0xffffu

static uint64_t errno_value(int rc)
{
	return (uint64_t)(int64_t)rc;
}

/* ---- head, meta, tail ------------------------------------------------- */

static uint8_t *reserved_end(const struct xdp_frame_state *fs)
{
	return fs->hard_start + XDP_FRAME_RESERVED;
}

static uint64_t helper_xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = xdp_frame_of(cc, r1);
	if (!fs)
		return errno_value(-EINVAL);
	int32_t offset = (int32_t)r2;
	uint8_t *data = xdp_ptr(fs->md.data), *meta = xdp_ptr(fs->md.data_meta);
	uint8_t *end = xdp_ptr(fs->md.data_end);
	size_t metalen = (size_t)(data - meta);
	uint8_t *lowest = reserved_end(fs) + metalen;
	intptr_t target = (intptr_t)data + offset;
	if (target < (intptr_t)lowest || target > (intptr_t)end - XDP_ETH_HLEN)
		return errno_value(-EINVAL);
	if (metalen)
		memmove(meta + offset, meta, metalen);
	fs->md.data_meta = xdp_field(meta + offset);
	fs->md.data = xdp_field(data + offset);
	xdp_sync_region(fs);
	return 0;
}

static uint64_t helper_xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = xdp_frame_of(cc, r1);
	if (!fs)
		return errno_value(-EINVAL);
	int32_t offset = (int32_t)r2;
	intptr_t data = (intptr_t)xdp_ptr(fs->md.data);
	intptr_t meta = (intptr_t)xdp_ptr(fs->md.data_meta) + offset;
	if (meta < (intptr_t)reserved_end(fs) || meta > data)
		return errno_value(-EINVAL);
	intptr_t metalen = data - meta;
	if ((metalen & 3) || metalen > XDP_METADATA_MAX)
		return errno_value(-EACCES);
	fs->md.data_meta = (uint32_t)meta;
	xdp_sync_region(fs);
	return 0;
}

static uint64_t helper_xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = xdp_frame_of(cc, r1);
	if (!fs)
		return errno_value(-EINVAL);
	int32_t offset = (int32_t)r2;
	uint8_t *end = xdp_ptr(fs->md.data_end);
	intptr_t target = (intptr_t)end + offset;
	if (target > (intptr_t)fs->hard_end || target < (intptr_t)xdp_ptr(fs->md.data) + XDP_ETH_HLEN)
		return errno_value(-EINVAL);
	if (offset > 0)
		memset(end, 0, (size_t)offset);
	fs->md.data_end = (uint32_t)target;
	xdp_sync_region(fs);
	return 0;
}

/* ---- bytes ------------------------------------------------------------ */

static uint64_t packet_len(const struct xdp_frame_state *fs)
{
	return fs->md.data_end - fs->md.data;
}

static uint64_t helper_xdp_get_buff_len(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = xdp_frame_of(cc, r1);
	return fs ? packet_len(fs) : errno_value(-EINVAL);
}

/* The packet bytes [offset, offset + len), or NULL with *rc set. */
static uint8_t *packet_span(const struct xdp_frame_state *fs, uint64_t offset, uint64_t len, int *rc)
{
	uint32_t off32 = (uint32_t)offset, len32 = (uint32_t)len;
	if (off32 > XDP_BYTES_MAX || len32 > XDP_BYTES_MAX) {
		*rc = -EFAULT;
		return NULL;
	}
	if ((uint64_t)off32 + len32 > packet_len(fs)) {
		*rc = -EINVAL;
		return NULL;
	}
	return xdp_ptr(fs->md.data) + off32;
}

static uint64_t xdp_copy_bytes(struct comb_call_ctx *cc, uint64_t ctx, uint64_t offset, uint64_t buf,
			       uint64_t len, bool to_packet)
{
	struct xdp_frame_state *fs = xdp_frame_of(cc, ctx);
	if (!fs)
		return errno_value(-EINVAL);
	int rc = 0;
	uint8_t *at = packet_span(fs, offset, len, &rc);
	if (!at)
		return errno_value(rc);
	void *mem = (void *)(uintptr_t)buf;
	uint32_t n = (uint32_t)len;
	if (comb_call_check_mem(cc, mem, n, !to_packet))
		return errno_value(-EFAULT);
	if (to_packet)
		memmove(at, mem, n);
	else
		memmove(mem, at, n);
	return 0;
}

static uint64_t helper_xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				      struct comb_call_ctx *cc)
{
	return xdp_copy_bytes(cc, r1, r2, r3, r4, false);
}

static uint64_t helper_xdp_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				       struct comb_call_ctx *cc)
{
	return xdp_copy_bytes(cc, r1, r2, r3, r4, true);
}

/* ---- checksums ---------------------------------------------------------- */

/* x86-64 csum_partial(): the one's complement sum of the bytes read as
 * little-endian words (a short tail zero-padded) plus seed, 32 bits wide;
 * 0 only when seed and every byte are 0. */
static uint32_t csum_partial32(const uint8_t *p, uint32_t len, uint32_t seed)
{
	uint64_t sum = seed;
	bool nonzero = seed != 0;
	uint32_t i = 0;
	for (; i + 4 <= len; i += 4) {
		uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
			     (uint32_t)p[i + 3] << 24;
		sum += w;
		nonzero |= w != 0;
	}
	uint32_t tail = 0;
	for (uint32_t k = 0; i + k < len; k++)
		tail |= (uint32_t)p[i + k] << (8 * k);
	sum += tail;
	nonzero |= tail != 0;
	if (!nonzero)
		return 0;
	uint32_t r = (uint32_t)(sum % 0xffffffffull);
	return r ? r : 0xffffffffu;
}

static uint32_t csum_add32(uint32_t a, uint32_t b)
{
	uint32_t r = a + b;
	return r + (r < b);
}

static uint16_t csum_fold_32to16(uint32_t sum)
{
	sum += (sum >> 16) | (sum << 16);
	return (uint16_t)(sum >> 16);
}

static uint64_t helper_csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct comb_call_ctx *cc)
{
	const uint8_t *from = (const uint8_t *)(uintptr_t)r1, *to = (const uint8_t *)(uintptr_t)r3;
	uint32_t from_size = (uint32_t)r2, to_size = (uint32_t)r4, seed = (uint32_t)r5;
	if ((from_size && comb_call_check_mem(cc, from, from_size, false)) ||
	    (to_size && comb_call_check_mem(cc, to, to_size, false)))
		return errno_value(-EFAULT);
	uint32_t ret = seed;
	if (from_size && to_size)
		ret = csum_add32(csum_partial32(to, to_size, ret), ~csum_partial32(from, from_size, 0));
	else if (to_size)
		ret = csum_partial32(to, to_size, ret);
	else if (from_size)
		ret = ~csum_partial32(from, from_size, ~ret);
	return csum_fold_32to16(ret);
}

/* ---- redirects ---------------------------------------------------------- */

static uint64_t helper_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = comb_call_hook_data(cc);
	uint64_t flags = r2;
	if (!fs || fs->magic != XDP_FRAME_MAGIC) /* the skb (tc) variant */
		return (flags & ~REDIRECT_FLAG_INGRESS) ? TC_ACT_SHOT : TC_ACT_REDIRECT;
	if (flags)
		return COMB_XDP_ABORTED;
	fs->target = (struct comb_xdp_target){ .kind = COMB_XDP_TARGET_IFINDEX, .ifindex = (uint32_t)r1 };
	return COMB_XDP_REDIRECT;
}

/* The first u32 of the entry for key, or 0 when there is none. */
static uint32_t redirect_entry(struct comb_map *map, uint32_t key)
{
	const void *value = comb_map_lookup_ptr(map, &key);
	uint32_t first = 0;
	if (value && map->info.value_size >= sizeof(first))
		memcpy(&first, value, sizeof(first));
	return first;
}

static enum comb_xdp_target_kind redirect_kind(uint32_t map_type, uint64_t *flag_mask)
{
	*flag_mask = 0;
	switch (map_type) {
	case COMB_MAP_DEVMAP:
	case COMB_MAP_DEVMAP_HASH:
		*flag_mask = REDIRECT_FLAG_BROADCAST | REDIRECT_FLAG_EXCLUDE_INGRESS;
		return COMB_XDP_TARGET_DEVMAP;
	case COMB_MAP_CPUMAP:
		return COMB_XDP_TARGET_CPUMAP;
	case COMB_MAP_XSKMAP:
		return COMB_XDP_TARGET_XSKMAP;
	}
	return COMB_XDP_TARGET_NONE;
}

static uint64_t helper_redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	struct xdp_frame_state *fs = comb_call_hook_data(cc);
	struct comb_map *map = helper_map_arg(cc, r1);
	uint64_t flags = r3, flag_mask;
	if (!fs || fs->magic != XDP_FRAME_MAGIC || !map)
		return COMB_XDP_ABORTED;
	enum comb_xdp_target_kind kind = redirect_kind(map->info.type, &flag_mask);
	if (kind == COMB_XDP_TARGET_NONE || (flags & ~(XDP_ACTION_MASK | flag_mask)))
		return COMB_XDP_ABORTED;
	uint32_t key = (uint32_t)r2, entry = redirect_entry(map, key);
	bool broadcast = flags & REDIRECT_FLAG_BROADCAST;
	if (!entry && !broadcast) {
		fs->target = (struct comb_xdp_target){ 0 };
		return flags & XDP_ACTION_MASK;
	}
	fs->target = (struct comb_xdp_target){
		.kind = kind, .map = map, .key = key,
		.ifindex = kind == COMB_XDP_TARGET_DEVMAP ? entry : 0,
		.flags = broadcast ? flags & flag_mask : 0,
	};
	return COMB_XDP_REDIRECT;
}

/* Every entry of the devmap, in key order (DEVMAP) or the hash's order
 * (DEVMAP_HASH), as dev_map_enqueue_multi() walks it; at most max_entries
 * steps, so a map changing under the walk cannot keep it going. */
int comb_xdp_broadcast_targets(const struct comb_xdp_target *t, uint32_t ingress_ifindex, uint32_t *ifindexes,
			       uint32_t *keys, size_t cap)
{
	if (!t || t->kind != COMB_XDP_TARGET_DEVMAP || !t->map || !(t->flags & REDIRECT_FLAG_BROADCAST) ||
	    (cap && !ifindexes))
		return -EINVAL;
	struct comb_map *map = (struct comb_map *)t->map;
	bool exclude_ingress = t->flags & REDIRECT_FLAG_EXCLUDE_INGRESS;
	size_t found = 0;
	uint32_t key = 0, next;
	const void *prev = NULL;
	for (uint32_t steps = 0; steps < map->info.max_entries && comb_map_get_next_key(map, prev, &next) == 0;
	     steps++) {
		key = next;
		prev = &key;
		uint32_t ifindex = redirect_entry(map, key);
		if (!ifindex || (exclude_ingress && ifindex == ingress_ifindex))
			continue;
		if (found < cap) {
			ifindexes[found] = ifindex;
			if (keys)
				keys[found] = key;
		}
		found++;
	}
	return found > INT32_MAX ? INT32_MAX : (int)found;
}

/* ---- registration ------------------------------------------------------- */

int comb_register_xdp_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_REDIRECT, "redirect", helper_redirect },
		{ HELPER_CSUM_DIFF, "csum_diff", helper_csum_diff },
		{ HELPER_XDP_ADJUST_HEAD, "xdp_adjust_head", helper_xdp_adjust_head },
		{ HELPER_REDIRECT_MAP, "redirect_map", helper_redirect_map },
		{ HELPER_XDP_ADJUST_META, "xdp_adjust_meta", helper_xdp_adjust_meta },
		{ HELPER_XDP_ADJUST_TAIL, "xdp_adjust_tail", helper_xdp_adjust_tail },
		{ 69, "fib_lookup", comb_xdp_helper_fib_lookup },
		{ HELPER_XDP_GET_BUFF_LEN, "xdp_get_buff_len", helper_xdp_get_buff_len },
		{ HELPER_XDP_LOAD_BYTES, "xdp_load_bytes", helper_xdp_load_bytes },
		{ HELPER_XDP_STORE_BYTES, "xdp_store_bytes", helper_xdp_store_bytes },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
