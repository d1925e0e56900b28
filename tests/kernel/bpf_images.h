/* tests/kernel/bpf_images.h - finding the BPF ELF objects on this machine.
 *
 * Debian ships BPF objects as files (xdp-tools) and embedded in binaries
 * (each libbpf-tools program carries its CO-RE object). These helpers read a
 * file and find the EM_BPF relocatable ELF images inside it; an embedded
 * image ends with its section header table. The corpus walk (the
 * objects of /usr/lib/x86_64-linux-gnu/bpf, the images embedded in the
 * binaries of /usr/sbin, in name order) lives here too, so every test and
 * benchmark walks the same corpus the same way. Shared by the libbpf
 * comparison tests, the real-program corpus and the loader benchmark.
 */
#ifndef COMB_TESTS_BPF_IMAGES_H
#define COMB_TESTS_BPF_IMAGES_H

#include <stdbool.h>
#include <stddef.h>

/* The whole file, malloc'd (free() it), or NULL. */
unsigned char *bpf_images_read_file(const char *path, size_t *size);
/* Size of the BPF ELF image starting at buf[off], or 0 if none starts there. */
size_t bpf_image_at(const unsigned char *buf, size_t len, size_t off);

/* Is buf a whole BPF ELF object (EM_BPF)? */
bool bpf_image_is_object(const unsigned char *buf, size_t len);

typedef void (*bpf_image_fn)(const char *what, const unsigned char *image, size_t size, void *arg);
typedef void (*bpf_file_fn)(const char *path, void *arg);

/* Call found(what, image, size, arg) for each image inside buf, in order;
 * what is "PATH[N]". Returns the number of images. */
int bpf_images_for_each(const char *path, const unsigned char *buf, size_t len, bpf_image_fn found, void *arg);

/* Reads path; when it is a BPF object itself, or embedded is false, calls
 * found once with the whole file (what = path), else once per image found
 * inside it (bpf_images_for_each). -1 when the file cannot be read. */
int bpf_images_in_file(const char *path, bool embedded, bpf_image_fn found, void *arg);
/* Calls file(path) for each regular file under 64 MiB of dir, in name
 * order; objects_only: only names holding ".o". -1 when dir cannot be read. */
int bpf_images_each_file(const char *dir, bool objects_only, bpf_file_fn file, void *arg);
/* bpf_images_in_file over each file of dir (objects only unless embedded).
 * Prints "  DIR: skipped (cannot read the directory)" when it cannot. */
void bpf_images_in_dir(const char *dir, bool embedded, bpf_image_fn found, void *arg);
/* The corpus: each object of /usr/lib/x86_64-linux-gnu/bpf (xdp-tools,
 * libxdp), then each image embedded in /usr/sbin's binaries (libbpf-tools). */
void bpf_images_in_corpus(bpf_image_fn found, void *arg);

#endif
