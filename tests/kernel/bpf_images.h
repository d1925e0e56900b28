/* tests/kernel/bpf_images.h - finding the BPF ELF objects on this machine.
 *
 * Debian ships BPF objects as files (xdp-tools) and embedded in binaries
 * (each libbpf-tools program carries its CO-RE object). These helpers read a
 * file and find the EM_BPF relocatable ELF images inside it; an embedded
 * image ends with its section header table. Shared by the libbpf comparison
 * tests and the loader benchmark.
 */
#ifndef COMB_TESTS_BPF_IMAGES_H
#define COMB_TESTS_BPF_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

/* The whole file, malloc'd (free() it), or NULL. */
unsigned char *bpf_images_read_file(const char *path, size_t *size);
/* Size of the BPF ELF image starting at buf[off], or 0 if none starts there. */
size_t bpf_image_at(const unsigned char *buf, size_t len, size_t off);
/* Call found(what, image, size, arg) for each image inside buf, in order;
 * what is "PATH[N]". Returns the number of images. */
int bpf_images_for_each(const char *path, const unsigned char *buf, size_t len,
			void (*found)(const char *what, const unsigned char *image, size_t size, void *arg),
			void *arg);

#endif
