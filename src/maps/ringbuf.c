/* src/maps/ringbuf.c - RINGBUF (creation only, for now).
 *
 * Objects that declare a ring buffer must load, so creation checks the
 * definition as the kernel does (key_size and value_size 0, max_entries a
 * power-of-two multiple of the page size); every operation answers -ENOTSUP
 * until the ring buffer itself (records, reserve/submit, consumer) lands.
 */
#include <errno.h>
#include <unistd.h>

#include "maps/internal.h"

static int ringbuf_init(struct comb_map *map, char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	if (in->key_size || in->value_size)
		return map_fail(err, err_len, -EINVAL, map, "key_size and value_size must be 0 for a ring buffer");
	if (in->max_entries < page || (in->max_entries & (in->max_entries - 1)))
		return map_fail(err, err_len, -EINVAL, map,
				"max_entries %u must be a power of two and at least the page size (%u)",
				in->max_entries, page);
	return map_check_flags(map, 0, err, err_len);
}

static int ringbuf_lookup(struct comb_map *m, const void *k, void *v) { return -ENOTSUP; }
static int ringbuf_update(struct comb_map *m, const void *k, const void *v, uint64_t f, int c) { return -ENOTSUP; }
static int ringbuf_delete(struct comb_map *m, const void *k) { return -ENOTSUP; }
static int ringbuf_next(struct comb_map *m, const void *k, void *n) { return -ENOTSUP; }
static void *ringbuf_lookup_ptr(struct comb_map *m, const void *k) { return NULL; }

const struct map_ops comb_ringbuf_ops = {
	.init = ringbuf_init, .lookup = ringbuf_lookup, .update = ringbuf_update,
	.delete = ringbuf_delete, .get_next_key = ringbuf_next, .lookup_ptr = ringbuf_lookup_ptr,
};
