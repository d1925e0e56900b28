/* tests/kernel/real_corpus.h - the real-program corpus: every BPF program
 * of this machine's third-party objects, with the kernel's verdict.
 *
 * The corpus is Debian's xdp-tools/libxdp objects
 * (/usr/lib/x86_64-linux-gnu/bpf/\*.o) and the CO-RE objects embedded in the
 * libbpf-tools binaries of /usr/sbin (found by bpf_images.h). For each
 * object, comb opens and loads it (CO-RE against this kernel's BTF) into a
 * VM; for each program, libbpf opens the same image with only that program
 * set to autoload and loads it into the kernel with log level BPF_LOG_STATS,
 * which gives the verdict and the kernel's own "verification time N usec".
 * Shared by tests/kernel/real_verdicts.c (acceptance) and
 * bench/verifier_bench.c (time).
 */
#ifndef COMB_TESTS_REAL_CORPUS_H
#define COMB_TESTS_REAL_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

struct comb_object;

struct real_prog {
	const char *image;          /* "PATH" or "PATH[N]" for an embedded image */
	const char *name;           /* the program's (function) name */
	struct comb_object *obj;    /* comb's object, loaded; NULL if comb could not load it */
	size_t index;               /* the program's index in obj */
	const char *comb_error;     /* why comb could not open or load the object (obj NULL) */
	int kernel;                 /* 1 accepted, 0 rejected, -1 not asked (bpf() denied) */
	long kernel_usec;           /* the kernel's verification time, -1 if not reported */
	long kernel_insns;          /* "processed N insns", -1 if not reported */
	const char *kernel_msg;     /* last line of the kernel's log when it rejected */
};

typedef void (*real_prog_fn)(const struct real_prog *p, void *arg);

/* Can this process load programs into the kernel? */
bool real_corpus_kernel_ok(void);

/* Call fn once per program of the corpus (paths: objects or binaries with
 * embedded images to use instead of the defaults; NULL for the defaults).
 * ask_kernel: load each program into the kernel for its verdict. Returns
 * the number of objects walked. */
int real_corpus_walk(char *const *paths, size_t npaths, bool ask_kernel, real_prog_fn fn, void *arg);

#endif
