/* src/maps/lpm_trie.c - LPM_TRIE: longest-prefix-match maps.
 *
 * The kernel's algorithm (a binary trie whose nodes each hold a prefix, with
 * "intermediate" nodes, without values, where two prefixes part ways), kept
 * in one storage region with no pointers: a header {root, entries, free
 * list, never-used mark} and a pool of 2 * max_entries nodes (at most
 * max_entries - 1 intermediate nodes besides the entries). Node links are
 * index + 1, 0 meaning none; freed nodes are chained through child[0].
 *
 * Key: struct { u32 prefixlen; u8 data[key_size - 4]; }, data in network
 * order, bit 0 the top bit of data[0]. Kernel rules: BPF_F_NO_PREALLOC
 * required, 5 <= key_size <= 260, value_size >= 1; update with prefixlen
 * above data bits is -EINVAL, a new entry in a full map -ENOSPC, BPF_NOEXIST
 * on an existing entry -EEXIST, BPF_EXIST on a missing one -ENOENT; lookup
 * returns the longest stored prefix of the key (bounded by the key's own
 * prefixlen; nothing when that is above the data's bits); get_next_key walks the trie in post-order (more specific
 * prefixes first, bit 0 before bit 1), restarting at the first node when the
 * key is absent.
 *
 * Concurrency: updates, deletes and user-space reads hold the map lock
 * (map_lock, process-shared); a replaced node is a new node swapped in, as
 * in the kernel, every change being published by one release store of a
 * link, so a writer killed mid-update leaves the old or the new trie; the
 * free list and entry count it may leave wrong are rebuilt by lpm_recover
 * from the nodes reachable from the root. Program lookups
 * walk without the lock, bounded by the key's bits, so a racing writer can
 * make one miss but never trap or fault it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps/internal.h"
#include "maps/queue.h"

#define FLAG_NUMA_NODE  (1u << 2)
#define LPM_FLAGS       (COMB_F_NO_PREALLOC | FLAG_NUMA_NODE | COMB_F_RDONLY | COMB_F_WRONLY | \
			 COMB_F_RDONLY_PROG | COMB_F_WRONLY_PROG)
#define LPM_KEY_MIN     5u
#define LPM_KEY_MAX     (4u + 256u)
#define LPM_VALUE_MAX   ((1u << 22) - 256u - 64u)
#define LPM_NODES_AT    64
#define NODE_INTERMEDIATE 1u

struct lpm_header {
	uint32_t root;
	uint32_t entries;
	uint32_t free_head;
	uint32_t next_unused; /* nodes below this index + 1 have been used */
	uint32_t node_size;
	uint32_t data_size;
	uint32_t max_prefixlen;
	uint32_t pool_nodes;
};

struct lpm_node {
	uint32_t child[2];
	uint32_t prefixlen;
	uint32_t flags;
	uint8_t data[]; /* data_size bytes, then the value at an 8-byte boundary */
};

struct lpm_key {
	uint32_t prefixlen;
	uint8_t data[];
};

static struct lpm_header *lpm_header(const struct comb_map *map)
{
	return (struct lpm_header *)map->storage;
}

static struct lpm_node *node_at(const struct comb_map *map, uint32_t index_plus_one)
{
	const struct lpm_header *h = lpm_header(map);
	if (index_plus_one == 0 || index_plus_one > h->pool_nodes)
		return NULL;
	return (struct lpm_node *)(map->storage + LPM_NODES_AT + (uint64_t)(index_plus_one - 1) * h->node_size);
}

static uint32_t node_index(const struct comb_map *map, const struct lpm_node *node)
{
	return (uint32_t)(((const uint8_t *)node - map->storage - LPM_NODES_AT) / lpm_header(map)->node_size) + 1;
}

static uint8_t *node_value(const struct comb_map *map, struct lpm_node *node)
{
	return node->data + map_round8(lpm_header(map)->data_size);
}

static uint32_t load_link(const uint32_t *link)
{
	return __atomic_load_n(link, __ATOMIC_ACQUIRE);
}

static void store_link(uint32_t *link, uint32_t value)
{
	__atomic_store_n(link, value, __ATOMIC_RELEASE);
}

static int extract_bit(const uint8_t *data, uint32_t index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

/* Leading bits node and key share, up to both prefix lengths. */
static uint32_t longest_prefix_match(const struct lpm_node *node, const struct lpm_key *key)
{
	uint32_t limit = node->prefixlen < key->prefixlen ? node->prefixlen : key->prefixlen;
	uint32_t bits = 0;
	for (uint32_t i = 0; bits < limit; i++) {
		uint8_t diff = node->data[i] ^ key->data[i];
		if (diff) {
			while (!(diff & 0x80)) {
				diff <<= 1;
				bits++;
			}
			return bits < limit ? bits : limit;
		}
		bits += 8;
	}
	return limit;
}

static int lpm_init(struct comb_map *map, char *err, size_t err_len)
{
	const struct comb_map_info *in = &map->info;
	if (in->max_entries == 0)
		return map_fail(err, err_len, -EINVAL, map, "max_entries must be non-zero");
	if (!(in->map_flags & COMB_F_NO_PREALLOC))
		return map_fail(err, err_len, -EINVAL, map, "lpm_trie maps need BPF_F_NO_PREALLOC (kernel rule)");
	if (in->key_size < LPM_KEY_MIN || in->key_size > LPM_KEY_MAX)
		return map_fail(err, err_len, -EINVAL, map,
				"key_size %u: must be 4 (prefixlen) + 1..256 bytes of data", in->key_size);
	if (in->value_size < 1 || in->value_size > LPM_VALUE_MAX)
		return map_fail(err, err_len, -EINVAL, map, "value_size %u: must be 1..%u", in->value_size,
				LPM_VALUE_MAX);
	int rc = map_check_flags(map, LPM_FLAGS, err, err_len);
	if (rc)
		return rc;
	if (in->max_entries > (1u << 30))
		return map_fail(err, err_len, -E2BIG, map, "max_entries %u is too large", in->max_entries);
	uint32_t data_size = in->key_size - 4;
	map->value_stride = (uint32_t)map_round8(in->value_size);
	uint64_t node_size = sizeof(struct lpm_node) + map_round8(data_size) + map->value_stride;
	uint64_t nodes = 2ull * in->max_entries;
	rc = map_alloc_storage(map, LPM_NODES_AT + nodes * node_size, err, err_len);
	if (rc)
		return rc;
	struct lpm_header *h = lpm_header(map);
	h->node_size = (uint32_t)node_size;
	h->data_size = data_size;
	h->max_prefixlen = data_size * 8;
	h->pool_nodes = (uint32_t)nodes;
	return 0;
}

/* A fresh node (lock held); NULL when the pool is exhausted. */
static struct lpm_node *node_alloc(struct comb_map *map)
{
	struct lpm_header *h = lpm_header(map);
	struct lpm_node *node;
	if (h->free_head) {
		node = node_at(map, h->free_head);
		h->free_head = node->child[0];
	} else if (h->next_unused < h->pool_nodes) {
		node = node_at(map, ++h->next_unused);
	} else {
		return NULL;
	}
	memset(node, 0, h->node_size);
	return node;
}

static void node_free(struct comb_map *map, struct lpm_node *node)
{
	struct lpm_header *h = lpm_header(map);
	node->flags = NODE_INTERMEDIATE;
	node->child[1] = 0;
	node->child[0] = h->free_head;
	h->free_head = node_index(map, node);
}

static void lpm_lock(struct comb_map *map)
{
	map_lock(map);
}

static void lpm_unlock(struct comb_map *map)
{
	map_unlock(map);
}

/* The node holding the longest prefix of key, or NULL. */
static struct lpm_node *lpm_find_longest(const struct comb_map *map, const struct lpm_key *key)
{
	const struct lpm_header *h = lpm_header(map);
	if (key->prefixlen > h->max_prefixlen)
		return NULL; /* the kernel finds nothing for such a key */
	struct lpm_node *found = NULL;
	struct lpm_node *node = node_at(map, load_link(&h->root));
	for (uint32_t depth = 0; node && depth <= h->max_prefixlen; depth++) {
		uint32_t match = longest_prefix_match(node, key);
		if (match == h->max_prefixlen) {
			found = node;
			break;
		}
		if (match < node->prefixlen)
			break;
		if (!(node->flags & NODE_INTERMEDIATE))
			found = node;
		node = node_at(map, load_link(&node->child[extract_bit(key->data, node->prefixlen)]));
	}
	return found && !(found->flags & NODE_INTERMEDIATE) ? found : NULL;
}

static void *lpm_lookup_ptr(struct comb_map *map, const void *key)
{
	struct lpm_node *node = lpm_find_longest(map, key);
	return node ? node_value(map, node) : NULL;
}

static int lpm_lookup(struct comb_map *map, const void *key, void *value)
{
	lpm_lock(map);
	struct lpm_node *node = lpm_find_longest(map, key);
	if (node)
		memcpy(value, node_value(map, node), map->info.value_size);
	lpm_unlock(map);
	return node ? 0 : -ENOENT;
}

/* Insert new_node (lock held, holding key and value) in place of or around
 * what the walk ends at. */
static int lpm_insert(struct comb_map *map, const struct lpm_key *key, struct lpm_node *new_node, uint64_t flags)
{
	struct lpm_header *h = lpm_header(map);
	uint32_t *slot = &h->root;
	struct lpm_node *node;
	uint32_t match = 0;
	while ((node = node_at(map, *slot))) {
		match = longest_prefix_match(node, key);
		if (node->prefixlen != match || node->prefixlen == key->prefixlen ||
		    node->prefixlen == h->max_prefixlen)
			break;
		slot = &node->child[extract_bit(key->data, node->prefixlen)];
	}
	bool exact = node && node->prefixlen == match && node->prefixlen == key->prefixlen;
	bool replaces_entry = exact && !(node->flags & NODE_INTERMEDIATE);
	if (replaces_entry && flags == COMB_NOEXIST)
		return -EEXIST;
	if (!replaces_entry && flags == COMB_EXIST)
		return -ENOENT;
	if (!replaces_entry && h->entries >= map->info.max_entries)
		return -ENOSPC;
	if (!node) {
		store_link(slot, node_index(map, new_node));
	} else if (exact) {
		new_node->child[0] = node->child[0];
		new_node->child[1] = node->child[1];
		store_link(slot, node_index(map, new_node));
		node_free(map, node);
	} else if (match == key->prefixlen) {
		/* The new prefix contains node's: it becomes node's parent. */
		new_node->child[extract_bit(node->data, match)] = node_index(map, node);
		store_link(slot, node_index(map, new_node));
	} else {
		struct lpm_node *im = node_alloc(map);
		if (!im)
			return -ENOSPC;
		im->flags = NODE_INTERMEDIATE;
		im->prefixlen = match;
		memcpy(im->data, node->data, h->data_size);
		int new_bit = extract_bit(key->data, match);
		im->child[new_bit] = node_index(map, new_node);
		im->child[!new_bit] = node_index(map, node);
		store_link(slot, node_index(map, im));
	}
	if (!replaces_entry)
		h->entries++;
	return 0;
}

static int lpm_update(struct comb_map *map, const void *key_arg, const void *value, uint64_t flags, int cpu)
{
	const struct lpm_key *key = key_arg;
	struct lpm_header *h = lpm_header(map);
	if (flags > COMB_EXIST || key->prefixlen > h->max_prefixlen)
		return -EINVAL;
	lpm_lock(map);
	struct lpm_node *new_node = node_alloc(map);
	int rc = -ENOSPC;
	if (new_node) {
		new_node->prefixlen = key->prefixlen;
		memcpy(new_node->data, key->data, h->data_size);
		memcpy(node_value(map, new_node), value, map->info.value_size);
		rc = lpm_insert(map, key, new_node, flags);
		if (rc)
			node_free(map, new_node);
	}
	lpm_unlock(map);
	return rc;
}

/* Remove the entry with exactly key (lock held). */
static int lpm_remove(struct comb_map *map, const struct lpm_key *key)
{
	struct lpm_header *h = lpm_header(map);
	uint32_t *trim = &h->root, *trim_parent = &h->root;
	struct lpm_node *node, *parent = NULL;
	uint32_t match = 0;
	while ((node = node_at(map, *trim))) {
		match = longest_prefix_match(node, key);
		if (node->prefixlen != match || node->prefixlen == key->prefixlen)
			break;
		parent = node;
		trim_parent = trim;
		trim = &node->child[extract_bit(key->data, node->prefixlen)];
	}
	if (!node || node->prefixlen != key->prefixlen || node->prefixlen != match ||
	    (node->flags & NODE_INTERMEDIATE))
		return -ENOENT;
	h->entries--;
	if (node->child[0] && node->child[1]) {
		node->flags |= NODE_INTERMEDIATE; /* still needed where two prefixes part */
		return 0;
	}
	if (parent && (parent->flags & NODE_INTERMEDIATE) && !node->child[0] && !node->child[1]) {
		/* The parent only split node from its sibling: the sibling takes its place. */
		uint32_t sibling = parent->child[0] == node_index(map, node) ? parent->child[1] : parent->child[0];
		store_link(trim_parent, sibling);
		node_free(map, parent);
		node_free(map, node);
		return 0;
	}
	store_link(trim, node->child[0] ? node->child[0] : node->child[1]);
	node_free(map, node);
	return 0;
}

static int lpm_delete(struct comb_map *map, const void *key_arg)
{
	const struct lpm_key *key = key_arg;
	if (key->prefixlen > lpm_header(map)->max_prefixlen)
		return -EINVAL;
	lpm_lock(map);
	int rc = lpm_remove(map, key);
	lpm_unlock(map);
	return rc;
}

/* The first entry in post-order under root (0 if none). */
static struct lpm_node *lpm_leftmost(const struct comb_map *map, struct lpm_node *node)
{
	struct lpm_node *found = NULL;
	while (node) {
		if (node->flags & NODE_INTERMEDIATE) {
			node = node_at(map, node->child[0]);
		} else {
			found = node;
			node = node_at(map, node->child[0] ? node->child[0] : node->child[1]);
		}
	}
	return found;
}

/* The entry after key in post-order (lock held), or NULL. */
static struct lpm_node *lpm_next(const struct comb_map *map, const struct lpm_key *key)
{
	const struct lpm_header *h = lpm_header(map);
	struct lpm_node *root = node_at(map, h->root);
	if (!key || key->prefixlen > h->max_prefixlen)
		return lpm_leftmost(map, root);
	struct lpm_node *stack[LPM_KEY_MAX * 8 + 2];
	int depth = 0;
	struct lpm_node *node = root;
	uint32_t match = 0;
	while (node) {
		stack[depth++] = node;
		match = longest_prefix_match(node, key);
		if (node->prefixlen != match || node->prefixlen == key->prefixlen)
			break;
		node = node_at(map, node->child[extract_bit(key->data, node->prefixlen)]);
	}
	if (!node || node->prefixlen != match || (node->flags & NODE_INTERMEDIATE))
		return lpm_leftmost(map, root);
	/* key is an entry: climb until a right sibling subtree or a parent entry. */
	for (depth--; depth > 0; depth--) {
		struct lpm_node *parent = stack[depth - 1];
		if (node_at(map, parent->child[0]) == node && parent->child[1])
			return lpm_leftmost(map, node_at(map, parent->child[1]));
		if (!(parent->flags & NODE_INTERMEDIATE))
			return parent;
		node = parent;
	}
	return NULL;
}

static int lpm_get_next_key(struct comb_map *map, const void *key, void *next_key)
{
	lpm_lock(map);
	struct lpm_node *next = lpm_next(map, key);
	if (next) {
		struct lpm_key *out = next_key;
		out->prefixlen = next->prefixlen;
		memcpy(out->data, next->data, lpm_header(map)->data_size);
	}
	lpm_unlock(map);
	return next ? 0 : -ENOENT;
}

/* Walk the subtree at index (depth-first), marking nodes; false when a link
 * is out of range, a node is reached twice or the walk is deeper than any
 * prefix allows. */
static bool lpm_mark(const struct comb_map *map, uint32_t index, uint32_t depth, uint8_t *seen,
		     uint32_t *entries)
{
	const struct lpm_header *h = lpm_header(map);
	if (index == 0)
		return true;
	if (index > h->next_unused || seen[index - 1] || depth > h->max_prefixlen + 1)
		return false;
	seen[index - 1] = 1;
	const struct lpm_node *node = node_at(map, index);
	if (node->prefixlen > h->max_prefixlen)
		return false;
	if (!(node->flags & NODE_INTERMEDIATE))
		(*entries)++;
	return lpm_mark(map, node->child[0], depth + 1, seen, entries) &&
	       lpm_mark(map, node->child[1], depth + 1, seen, entries);
}

/* After a writer died holding the lock (lock held): recount the entries and
 * rebuild the free list from every used node the trie does not reach. */
static int lpm_recover(struct comb_map *map)
{
	struct lpm_header *h = lpm_header(map);
	if (h->next_unused > h->pool_nodes)
		return -EINVAL;
	uint8_t *seen = calloc(h->pool_nodes ? h->pool_nodes : 1, 1);
	if (!seen)
		return -EINVAL;
	uint32_t entries = 0;
	if (!lpm_mark(map, h->root, 0, seen, &entries) || entries > map->info.max_entries) {
		free(seen);
		return -EINVAL;
	}
	h->entries = entries;
	h->free_head = 0;
	for (uint32_t i = h->next_unused; i > 0; i--)
		if (!seen[i - 1])
			node_free(map, node_at(map, i));
	free(seen);
	return 0;
}

const struct map_ops comb_lpm_trie_ops = {
	.init = lpm_init,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.get_next_key = lpm_get_next_key,
	.lookup_ptr = lpm_lookup_ptr,
	.recover = lpm_recover,
};
