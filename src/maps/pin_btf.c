/* src/maps/pin_btf.c - the BTF of a map's keys and values, kept in the
 * map's own shared file so that a pin carries it.
 *
 * The raw BTF bytes are a trailer after the region, at file offset
 * header->region_size, and the header records their size and the key and
 * value type ids. Keeping them in the same file (not in a file beside the
 * pin) means pinning (a link or a copy), replacing and unpinning a map can
 * never separate a map from its types. The trailer is written once, before
 * the map is pinned (the loader does it right after creating the map):
 * first the bytes, then the header fields, so a reader sees no BTF or all
 * of it. Maps whose family maps the file itself (ring buffers, perf event
 * arrays) or has no storage in the region keep no BTF (-EOPNOTSUPP).
 *
 * Each process keeps a private copy of the bytes (map->btf_data), read when
 * a pinned map is opened; the library does not parse them: users (the CLI)
 * parse and validate them before use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/internal.h"

/* Larger BTF than this in a header is taken as corruption. */
#define MAP_BTF_MAX (64u << 20)

static bool region_holds_storage(const struct comb_map *map)
{
	const struct map_header *h = map->header;
	return h && h->data_size && map->storage == (const uint8_t *)h + h->header_size;
}

static int write_all(int fd, const void *data, size_t size, off_t offset)
{
	const uint8_t *p = data;
	while (size) {
		ssize_t n = pwrite(fd, p, size, offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		size -= (size_t)n;
		offset += n;
	}
	return 0;
}

int comb_map_set_btf(struct comb_map *map, const void *btf_data, size_t size, uint32_t key_type_id,
		     uint32_t value_type_id)
{
	if (!map || !btf_data || size < 24 || size > MAP_BTF_MAX || !value_type_id)
		return -EINVAL;
	if (!region_holds_storage(map) || map->holds_pointers)
		return -EOPNOTSUPP;
	if (map->header->btf_size || map->btf_data)
		return -EEXIST;
	void *copy = malloc(size);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, btf_data, size);
	int rc = write_all(map->region_fd, copy, size, (off_t)map->header->region_size);
	if (rc) {
		int cut = ftruncate(map->region_fd, (off_t)map->header->region_size);
		(void)cut; /* best effort: a partial trailer leaves the file unopenable */
		free(copy);
		return rc;
	}
	map->header->btf_key_type_id = key_type_id;
	map->header->btf_value_type_id = value_type_id;
	__atomic_store_n(&map->header->btf_size, (uint32_t)size, __ATOMIC_RELEASE);
	map->btf_data = copy;
	map->btf_size = (uint32_t)size;
	return 0;
}

int comb_map_get_btf(const struct comb_map *map, const void **btf_data, size_t *size,
		     uint32_t *key_type_id, uint32_t *value_type_id)
{
	if (!map || !btf_data || !size || !key_type_id || !value_type_id)
		return -EINVAL;
	if (!map->btf_data || !map->header)
		return -ENOENT;
	*btf_data = map->btf_data;
	*size = map->btf_size;
	*key_type_id = map->header->btf_key_type_id;
	*value_type_id = map->header->btf_value_type_id;
	return 0;
}

/* Opening a pinned map: read the trailer the header announces (the file's
 * size was checked against it). */
int map_btf_load(struct comb_map *map, int fd, char *err, size_t err_len)
{
	uint32_t size = map->header->btf_size;
	if (!size)
		return 0;
	if (size > MAP_BTF_MAX || size < 24 || !map->header->btf_value_type_id)
		return map_fail(err, err_len, -EINVAL, map, "corrupted BTF size or type id in the header");
	map->btf_data = malloc(size);
	if (!map->btf_data)
		return -ENOMEM;
	if (pread(fd, map->btf_data, size, (off_t)map->header->region_size) != (ssize_t)size) {
		map_btf_release(map);
		return map_fail(err, err_len, -EINVAL, map, "cannot read its BTF (truncated file?)");
	}
	map->btf_size = size;
	return 0;
}

/* Pinning by copy: the trailer goes after the copied region. */
int map_btf_copy_to(const struct comb_map *map, int fd)
{
	if (!map->btf_data || !map->header->btf_size)
		return 0;
	return write_all(fd, map->btf_data, map->btf_size, (off_t)map->header->region_size);
}

void map_btf_release(struct comb_map *map)
{
	free(map->btf_data);
	map->btf_data = NULL;
	map->btf_size = 0;
}
