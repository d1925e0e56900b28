/* tests/kernel/bpf_images.c - see bpf_images.h. */
#include <dirent.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bpf_images.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

unsigned char *bpf_images_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	unsigned char *buf = NULL;
	size_t cap = 0, len = 0, n;
	do {
		if (len == cap) {
			unsigned char *p = realloc(buf, cap = cap ? cap * 2 : 1 << 16);
			if (!p)
				break;
			buf = p;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	*size = len;
	return buf;
}

size_t bpf_image_at(const unsigned char *buf, size_t len, size_t off)
{
	Elf64_Ehdr eh;
	if (off > len || len - off < sizeof(eh) || memcmp(buf + off, ELFMAG, SELFMAG) != 0)
		return 0;
	memcpy(&eh, buf + off, sizeof(eh));
	if (eh.e_machine != EM_BPF || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_REL)
		return 0;
	uint64_t end = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	return end <= len - off && end >= sizeof(eh) ? (size_t)end : 0;
}

int bpf_images_for_each(const char *path, const unsigned char *buf, size_t len, bpf_image_fn found, void *arg)
{
	int count = 0;
	for (size_t off = 0; off + sizeof(Elf64_Ehdr) <= len; off++) {
		size_t size = bpf_image_at(buf, len, off);
		if (!size)
			continue;
		char what[512];
		snprintf(what, sizeof(what), "%s[%d]", path, count++);
		found(what, buf + off, size, arg);
		off += size - 1;
	}
	return count;
}

bool bpf_image_is_object(const unsigned char *buf, size_t len)
{
	Elf64_Ehdr eh;
	if (len < sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return false;
	memcpy(&eh, buf, sizeof(eh));
	return eh.e_machine == EM_BPF;
}

int bpf_images_in_file(const char *path, bool embedded, bpf_image_fn found, void *arg)
{
	size_t len = 0;
	unsigned char *buf = bpf_images_read_file(path, &len);
	if (!buf)
		return -1;
	if (embedded && !bpf_image_is_object(buf, len))
		bpf_images_for_each(path, buf, len, found, arg);
	else
		found(path, buf, len, arg);
	free(buf);
	return 0;
}

int bpf_images_each_file(const char *dir, bool objects_only, bpf_file_fn file, void *arg)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		bool want = !objects_only || strstr(names[i]->d_name, ".o") != NULL;
		if (want && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < (64 << 20))
			file(path, arg);
		free(names[i]);
	}
	free(names);
	return 0;
}

struct images_in_dir {
	bool embedded;
	bpf_image_fn found;
	void *arg;
};

static void images_in_dir_file(const char *path, void *arg)
{
	struct images_in_dir *d = arg;
	bpf_images_in_file(path, d->embedded, d->found, d->arg);
}

void bpf_images_in_dir(const char *dir, bool embedded, bpf_image_fn found, void *arg)
{
	struct images_in_dir d = { embedded, found, arg };
	if (bpf_images_each_file(dir, !embedded, images_in_dir_file, &d))
		printf("  %s: skipped (cannot read the directory)\n", dir);
}

void bpf_images_in_corpus(bpf_image_fn found, void *arg)
{
	bpf_images_in_dir("/usr/lib/x86_64-linux-gnu/bpf", false, found, arg);
	bpf_images_in_dir("/usr/sbin", true, found, arg);
}
