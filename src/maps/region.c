/* src/maps/region.c - the shared-memory region every map lives in, pinning,
 * the robust map lock and per-CPU slots.
 *
 * Layout: one file, mapped MAP_SHARED by every process that uses the map,
 * at whatever address each gets:
 *
 *   [header page: struct map_header][data area: the family's storage]
 *
 * The header holds the magic "COMBMAP", the format version, the definition
 * (type, sizes, flags, nr_cpus, value stride, name), the sizes of the
 * region, the family's state words and the map lock (owner_lock.c: a
 * futex word naming its holder). Inside the data area every link is an offset
 * or an index, never a pointer.
 *
 * The file: O_TMPFILE in the pin directory when it is a tmpfs (so pinning
 * is a linkat() of /proc/self/fd/N, no copy), or a memfd. Either way the
 * mapping is MAP_SHARED, so fork()ed children share the map. Pinning to
 * another filesystem copies the region to the new file under the map lock
 * and maps the copy over the old mapping at the same address.
 *
 * Reopening (comb_map_open_pinned) validates the header against the file
 * size, reruns the family's init on a private copy-on-write view (so its
 * layout computation and size checks run again; the size it asks for must
 * match the file), maps the shared file over that view, then runs the
 * family's recover under the lock as a consistency check.
 *
 * Crash consistency: writers publish with one release store after writing
 * an element whole; when the lock's holder died, the next map_lock() takes
 * the lock over and lets the family rebuild its state words (free lists,
 * counts) from what is reachable.
 *
 * Per-CPU slots: a run claims a slot (the CPU it is on if free, else any
 * free one, else it waits) in a claim table shared by all of the user's
 * processes (/dev/shm), so no two runs share one, in one process or in
 * several; the slot lives in a thread-local while the run lasts, and a
 * claim whose thread died is taken back when every slot is claimed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "maps/internal.h"

/* Storage above this, or above the machine's memory, is refused as absurd
 * (the kernel: -E2BIG / -ENOMEM) before anything is allocated. */
#define MAP_STORAGE_LIMIT (1ull << 36)

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t storage_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	uint64_t ram = pages > 0 ? (uint64_t)pages * page_size() : MAP_STORAGE_LIMIT;
	return ram < MAP_STORAGE_LIMIT ? ram : MAP_STORAGE_LIMIT;
}

static uint64_t header_size(void)
{
	uint64_t page = page_size();
	return (sizeof(struct map_header) + page - 1) & ~(page - 1);
}

/* ---- pin directory */

int comb_pin_dir(char *buf, size_t len)
{
	int n;
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/comb");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/comb", xdg);
	else
		n = snprintf(buf, len, "/tmp/comb-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* path as given, or under the pin directory when relative. */
int map_pin_path(const char *path, char *out, size_t len)
{
	if (!path || !path[0])
		return -EINVAL;
	if (path[0] == '/') {
		if (strlen(path) >= len)
			return -ENAMETOOLONG;
		strcpy(out, path);
		return 0;
	}
	char dir[PATH_MAX];
	int rc = comb_pin_dir(dir, sizeof(dir));
	if (rc)
		return rc;
	int n = snprintf(out, len, "%s/%s", dir, path);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* ---- creating the region */

/* A new map's file: an unnamed file in the pin directory when that is a
 * tmpfs (pinning is then a link, no copy), else a memfd (also tmpfs). On a
 * disk file system (some containers' /run) every page would go through the
 * page cache and the disk, which costs more than the copy that pinning such
 * a map later makes (comb_map_pin falls back to copying and remapping). */
static int region_file(uint64_t size)
{
	char dir[PATH_MAX];
	struct statfs fs;
	int fd = -1;
	if (comb_pin_dir(dir, sizeof(dir)) == 0 && statfs(dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC)
		fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		fd = memfd_create("comb-map", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Copy the process-local definition into the header. */
static void header_write_definition(struct comb_map *map)
{
	struct map_header *h = map->header;
	h->type = map->info.type;
	h->key_size = map->info.key_size;
	h->value_size = map->info.value_size;
	h->max_entries = map->info.max_entries;
	h->map_flags = map->info.map_flags;
	h->map_extra = map->info.map_extra;
	h->nr_cpus = map->nr_cpus;
	h->value_stride = map->value_stride;
	h->flags = (map->percpu ? MAP_HDR_PERCPU : 0) | (map->lru ? MAP_HDR_LRU : 0) |
		   (map->holds_pointers ? MAP_HDR_POINTERS : 0);
	snprintf(h->name, sizeof(h->name), "%s", map->name);
}

static int region_create(struct comb_map *map, uint64_t data_size, char *err, size_t err_len)
{
	uint64_t hsize = header_size();
	uint64_t total = hsize + data_size;
	int fd = region_file(total);
	if (fd < 0)
		return map_fail(err, err_len, -ENOMEM, map, "cannot create a shared file of %llu bytes: %s",
				(unsigned long long)total, strerror(-fd));
	void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return map_fail(err, err_len, -ENOMEM, map, "cannot map %llu bytes of storage",
				(unsigned long long)total);
	}
	struct map_header *h = p;
	memcpy(h->magic, MAP_MAGIC, sizeof(h->magic));
	h->version = MAP_FORMAT_VERSION;
	h->header_size = (uint32_t)hsize;
	h->region_size = total;
	h->data_size = data_size;
	owner_lock_init(&h->lock);
	map->header = h;
	map->region_size = total;
	map->region_fd = fd;
	map->storage_new = true;
	header_write_definition(map);
	if (data_size) {
		map->storage = (uint8_t *)p + hsize;
		map->storage_size = data_size;
	}
	return 0;
}

/* Reopening: map the file copy-on-write while the family's init runs. */
static int region_attach_private(struct comb_map *map, uint64_t data_size, char *err, size_t err_len)
{
	struct stat st;
	if (fstat(map->attach_fd, &st))
		return map_fail(err, err_len, -errno, map, "cannot stat the pinned file");
	uint64_t hsize = header_size();
	if ((uint64_t)st.st_size != hsize + data_size + map->btf_size) /* + the BTF trailer (pin_btf.c) */
		return map_fail(err, err_len, -EINVAL, map,
				"pinned file is %llu bytes, this definition needs %llu: truncated or corrupted",
				(unsigned long long)st.st_size, (unsigned long long)(hsize + data_size + map->btf_size));
	void *p = mmap(NULL, hsize + data_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, map->attach_fd, 0);
	if (p == MAP_FAILED)
		return map_fail(err, err_len, -ENOMEM, map, "cannot map the pinned file");
	map->header = p;
	map->region_size = hsize + data_size;
	map->storage_new = false;
	if (data_size) {
		map->storage = (uint8_t *)p + hsize;
		map->storage_size = data_size;
	}
	return 0;
}

int map_alloc_storage(struct comb_map *map, uint64_t size, char *err, size_t err_len)
{
	if (map->header)
		return map_fail(err, err_len, -EINVAL, map, "internal: storage allocated twice");
	uint64_t limit = storage_limit();
	if (size > limit)
		return map_fail(err, err_len, -E2BIG, map,
				"needs %llu bytes of storage, more than comb allows here (%llu); lower max_entries",
				(unsigned long long)size, (unsigned long long)limit);
	uint64_t page = page_size();
	size = (size + page - 1) & ~(page - 1);
	if (map->attach_fd >= 0)
		return region_attach_private(map, size, err, err_len);
	return region_create(map, size, err, err_len);
}

/* After init: families without storage still get a header (and a lock). */
int map_region_finish_create(struct comb_map *map, char *err, size_t err_len)
{
	if (!map->header) {
		uint8_t *own_storage = map->storage;
		size_t own_size = map->storage_size;
		int rc = region_create(map, 0, err, err_len);
		if (rc)
			return rc;
		map->storage = own_storage;
		map->storage_size = own_size;
	}
	header_write_definition(map);
	return 0;
}

bool map_storage_is_new(const struct comb_map *map)
{
	return map->storage_new;
}

int map_region_fd(const struct comb_map *map)
{
	return map->attach_fd >= 0 ? map->attach_fd : map->region_fd;
}

void map_region_release(struct comb_map *map)
{
	if (map->header)
		munmap(map->header, map->region_size);
	map->header = NULL;
	if (map->region_fd >= 0)
		close(map->region_fd);
	map->region_fd = -1;
}

/* ---- the lock */

void map_lock(struct comb_map *map)
{
	if (__builtin_expect(owner_lock_acquire(&map->header->lock), 0)) {
		__atomic_add_fetch(&map->header->recoveries, 1, __ATOMIC_RELAXED);
		if (map->ops && map->ops->recover)
			map->ops->recover(map);
	}
}

void map_unlock(struct comb_map *map)
{
	owner_lock_release(&map->header->lock);
}

/* ---- pinning */

static int copy_region_to(struct comb_map *map, const char *path)
{
	char tmp[PATH_MAX + 16];
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	fchmod(fd, 0600);
	int rc = 0;
	map_lock(map);
	if (write(fd, map->header, map->region_size) != (ssize_t)map->region_size)
		rc = errno ? -errno : -EIO;
	if (!rc)
		rc = map_btf_copy_to(map, fd);
	if (!rc && link(tmp, path))
		rc = -errno;
	unlink(tmp);
	/* From now on this process uses the pinned copy, at the same address. */
	if (!rc && mmap(map->header, map->region_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
			   MAP_FAILED)
		rc = -errno;
	if (!rc && map->ops && map->ops->region_moved)
		rc = map->ops->region_moved(map, fd);
	map_unlock(map);
	if (rc) {
		close(fd);
		return rc;
	}
	close(map->region_fd);
	map->region_fd = fd;
	return 0;
}

int comb_map_pin(struct comb_map *map, const char *path)
{
	char full[PATH_MAX];
	if (!map || !map->header)
		return -EINVAL;
	if (map->holds_pointers || map->header->data_size == 0)
		return -EOPNOTSUPP;
	int rc = map_pin_path(path, full, sizeof(full));
	if (rc)
		return rc;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", map->region_fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, full, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	if (access(full, F_OK) == 0)
		return -EEXIST;
	return copy_region_to(map, full);
}

int comb_map_unpin(const char *path)
{
	char full[PATH_MAX];
	int rc = map_pin_path(path, full, sizeof(full));
	if (rc)
		return rc;
	return unlink(full) ? -errno : 0;
}

/* ---- per-CPU slots */

/* The claim table: one cache line per slot, holding 0 or the owner's
 * (pid << 32 | tid). It is a file in /dev/shm shared by every process of
 * this user, so runs in different processes never share a slot (as no two
 * programs share a CPU in the kernel); a claim whose owner died is taken
 * back when a run finds every slot claimed. Without /dev/shm the table is
 * private to the process. */
#define SLOT_MAX    1024
#define SLOT_STRIDE 8 /* u64 words: a cache line per slot */
#define SLOT_TABLE_BYTES ((size_t)SLOT_MAX * SLOT_STRIDE * sizeof(uint64_t))

static uint64_t slot_local[SLOT_MAX * SLOT_STRIDE];
static uint64_t *slot_table = slot_local;
static pthread_once_t slot_table_once = PTHREAD_ONCE_INIT;
static __thread int slot_current = -1;
static __thread int slot_depth;
static __thread uint64_t slot_owner_cache;

static void slot_forget_owner(void)
{
	slot_owner_cache = 0; /* fork()'s child: new pid and tid */
}

static void slot_table_open(void)
{
	char path[64];
	pthread_atfork(NULL, NULL, slot_forget_owner);
	snprintf(path, sizeof(path), "/dev/shm/comb-percpu-slots.%u", (unsigned)geteuid());
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	struct stat st;
	/* Growing to the same size in two processes at once is harmless. */
	if (fstat(fd, &st) == 0 && (st.st_size >= (off_t)SLOT_TABLE_BYTES || ftruncate(fd, SLOT_TABLE_BYTES) == 0)) {
		void *p = mmap(NULL, SLOT_TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			slot_table = p;
	}
	close(fd);
}

static uint64_t slot_owner_self(void)
{
	if (!slot_owner_cache)
		slot_owner_cache = (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
	return slot_owner_cache;
}

static uint64_t *slot_word(uint32_t slot)
{
	return &slot_table[(size_t)slot * SLOT_STRIDE];
}

static bool slot_try_claim(uint32_t slot, uint64_t me)
{
	uint64_t expected = 0;
	return __atomic_compare_exchange_n(slot_word(slot), &expected, me, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static bool slot_owner_is_dead(uint64_t owner)
{
	pid_t pid = (pid_t)(owner >> 32), tid = (pid_t)(uint32_t)owner;
	return syscall(SYS_tgkill, pid, tid, 0) == -1 && errno == ESRCH;
}

/* Every slot was claimed: free the claims of threads that died in a run. */
static void slot_reclaim_dead(uint32_t n)
{
	for (uint32_t slot = 0; slot < n; slot++) {
		uint64_t owner = __atomic_load_n(slot_word(slot), __ATOMIC_ACQUIRE);
		if (owner && slot_owner_is_dead(owner))
			__atomic_compare_exchange_n(slot_word(slot), &owner, 0, false, __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED);
	}
}

void comb_percpu_slot_enter(void)
{
	if (slot_depth++ > 0)
		return;
	pthread_once(&slot_table_once, slot_table_open);
	uint32_t n = map_possible_cpus();
	if (n > SLOT_MAX)
		n = SLOT_MAX;
	uint64_t me = slot_owner_self();
	int cpu = sched_getcpu();
	uint32_t first = cpu > 0 ? (uint32_t)cpu % n : 0;
	for (;;) {
		for (uint32_t i = 0; i < n; i++) {
			uint32_t slot = (first + i) % n;
			if (slot_try_claim(slot, me)) {
				slot_current = (int)slot;
				return;
			}
		}
		slot_reclaim_dead(n);
		sched_yield(); /* more runs than CPUs: wait for one to end */
	}
}

void comb_percpu_slot_leave(void)
{
	if (slot_depth == 0 || --slot_depth > 0)
		return;
	if (slot_current >= 0)
		__atomic_store_n(slot_word((uint32_t)slot_current), 0, __ATOMIC_RELEASE);
	slot_current = -1;
}

uint32_t map_current_cpu(const struct comb_map *map)
{
	int slot = slot_current;
	if (slot < 0) {
		slot = sched_getcpu();
		if (slot < 0)
			slot = 0;
	}
	return (uint32_t)slot % map->nr_cpus;
}

/* ---- reopening a pinned map */

static int bad_file(char *err, size_t err_len, const char *path, const char *what)
{
	if (err && err_len)
		snprintf(err, err_len, "%s: not a usable comb map: %s", path, what);
	return -EINVAL;
}

int map_region_read_header(int fd, const char *path, struct map_header *out, char *err, size_t err_len)
{
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return bad_file(err, err_len, path, "not a regular file");
	if ((uint64_t)st.st_size < header_size())
		return bad_file(err, err_len, path, "shorter than a map header (truncated?)");
	if (pread(fd, out, sizeof(*out), 0) != (ssize_t)sizeof(*out))
		return bad_file(err, err_len, path, "cannot read the header");
	if (memcmp(out->magic, MAP_MAGIC, sizeof(out->magic)) != 0)
		return bad_file(err, err_len, path, "bad magic (expected \"COMBMAP\")");
	if (out->version != MAP_FORMAT_VERSION)
		return bad_file(err, err_len, path, "unsupported format version");
	if (out->header_size != header_size() || out->region_size + out->btf_size != (uint64_t)st.st_size ||
	    out->data_size != out->region_size - out->header_size)
		return bad_file(err, err_len, path, "sizes in the header do not match the file (truncated or corrupted)");
	if (!memchr(out->name, '\0', sizeof(out->name)))
		return bad_file(err, err_len, path, "name is not terminated");
	if (out->nr_cpus == 0 || out->nr_cpus > 65536 || out->value_stride > (1u << 23))
		return bad_file(err, err_len, path, "corrupted per-CPU count or value stride");
	if (out->flags & MAP_HDR_POINTERS)
		return bad_file(err, err_len, path, "holds process-local pointers");
	return 0;
}

/* After init ran on the private view: share the file at the same address. */
int map_region_share(struct comb_map *map, char *err, size_t err_len)
{
	if (!map->header)
		return map_fail(err, err_len, -EINVAL, map, "pinned map has no storage");
	if (map->nr_cpus != map->header->nr_cpus || map->value_stride != map->header->value_stride)
		return map_fail(err, err_len, -EINVAL, map,
				"pinned with %u CPUs and value stride %u, this process has %u and %u",
				map->header->nr_cpus, map->header->value_stride, map->nr_cpus, map->value_stride);
	if (mmap(map->header, map->region_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, map->attach_fd,
		 0) == MAP_FAILED)
		return map_fail(err, err_len, -errno, map, "cannot map the pinned file shared");
	map->region_fd = map->attach_fd;
	map->attach_fd = -1;
	return 0;
}
