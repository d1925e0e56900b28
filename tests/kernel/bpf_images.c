/* tests/kernel/bpf_images.c - see bpf_images.h. */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int bpf_images_for_each(const char *path, const unsigned char *buf, size_t len,
			void (*found)(const char *what, const unsigned char *image, size_t size, void *arg),
			void *arg)
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
