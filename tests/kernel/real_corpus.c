/* tests/kernel/real_corpus.c - see real_corpus.h.
 *
 * The kernel's verdict for one program comes from a libbpf load of the whole
 * image with every other program's autoload turned off: the program gets its
 * maps, CO-RE relocations and attach target exactly as the tool that ships
 * it would give them. Anything that stops the load (a missing attach target,
 * a map the kernel cannot create, the verifier) counts as "not accepted";
 * the message is the last line of the verifier log, or libbpf's complaint
 * when the verifier never ran.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "comb/object.h"
#include "comb/vm.h"
#include "bpf_images.h"
#include "real_corpus.h"

#define KERNEL_LOG_SIZE (1u << 20)

/* Maps whose size the tool sets at run time (max_entries 0 in the object)
 * get one here, the same on both sides; perf event arrays are sized by the
 * loader (one slot per CPU). */
static uint32_t runtime_max_entries(uint32_t type)
{
	if (type == BPF_MAP_TYPE_RINGBUF || type == BPF_MAP_TYPE_USER_RINGBUF)
		return 256 * 1024;
	return type == BPF_MAP_TYPE_PERF_EVENT_ARRAY ? 0 : 1024;
}
#define BPF_LOG_STATS_LEVEL 4

static char libbpf_complaint[256];

static int remember_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[256];
	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	/* keep the first failure, skipping what libbpf recovers from */
	if (!libbpf_complaint[0] && !strstr(line, "Retrying without BTF"))
		snprintf(libbpf_complaint, sizeof(libbpf_complaint), "%s", line);
	return 0;
}

bool real_corpus_kernel_ok(void)
{
	struct bpf_insn ret0[] = { { .code = BPF_ALU64 | BPF_MOV | BPF_K }, { .code = BPF_JMP | BPF_EXIT } };
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "probe", "GPL", ret0, 2, NULL);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static const char *log_last_line(const char *log, char *buf, size_t len)
{
	size_t n = strlen(log);
	while (n > 0 && log[n - 1] == '\n')
		n--;
	const char *p = log + n;
	/* skip the statistics lines at the end ("processed ...", "verification time") */
	for (;;) {
		const char *start = p;
		while (start > log && start[-1] != '\n')
			start--;
		bool stats = strncmp(start, "verification time", 17) == 0 ||
			     strncmp(start, "processed ", 10) == 0 || strncmp(start, "stack depth", 11) == 0;
		if (!stats || start == log) {
			snprintf(buf, len, "%.*s", (int)(p - start), start);
			return buf;
		}
		p = start - 1;
	}
}

static long log_number_after(const char *log, const char *key)
{
	const char *p = strstr(log, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* Load image with only program `name` into the kernel; fill the verdict. */
static void kernel_verdict(const void *image, size_t size, const char *name, struct real_prog *rp,
			   char *msg, size_t msg_len)
{
	static char log[KERNEL_LOG_SIZE];
	rp->kernel = 0;
	rp->kernel_usec = rp->kernel_insns = -1;
	libbpf_complaint[0] = 0;
	log[0] = 0;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "real_corpus");
	struct bpf_object *lo = bpf_object__open_mem(image, size, &opts);
	if (!lo || libbpf_get_error(lo)) {
		snprintf(msg, msg_len, "libbpf cannot open it: %s", libbpf_complaint);
		rp->kernel_msg = msg;
		return;
	}
	struct bpf_map *lm;
	bpf_object__for_each_map(lm, lo) {
		bpf_map__set_pin_path(lm, NULL); /* LIBBPF_PIN_BY_NAME maps: nothing in /sys/fs/bpf */
		if (bpf_map__max_entries(lm) == 0 && runtime_max_entries(bpf_map__type(lm)))
			bpf_map__set_max_entries(lm, runtime_max_entries(bpf_map__type(lm)));
	}
	struct bpf_program *lp;
	bool found = false;
	bpf_object__for_each_program(lp, lo) {
		bool mine = strcmp(bpf_program__name(lp), name) == 0;
		bpf_program__set_autoload(lp, mine);
		if (mine) {
			found = true;
			bpf_program__set_log_buf(lp, log, sizeof(log));
			bpf_program__set_log_level(lp, BPF_LOG_STATS_LEVEL);
		}
	}
	int rc = found ? bpf_object__load(lo) : -ENOENT;
	bpf_object__close(lo);
	rp->kernel_usec = log_number_after(log, "verification time ");
	rp->kernel_insns = log_number_after(log, "processed ");
	if (rc == 0) {
		rp->kernel = 1;
		return;
	}
	if (log[0])
		log_last_line(log, msg, msg_len);
	else
		snprintf(msg, msg_len, "%s", found ? libbpf_complaint : "libbpf does not list the program");
	rp->kernel_msg = msg;
}

/* Programs by libbpf's list when comb could not open or load the object. */
static void walk_without_comb(const char *what, const void *image, size_t size, const char *why,
			      bool ask_kernel, real_prog_fn fn, void *arg)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "real_corpus");
	struct bpf_object *lo = bpf_object__open_mem(image, size, &opts);
	if (!lo || libbpf_get_error(lo))
		return;
	char names[256][128];
	int n = 0;
	struct bpf_program *lp;
	bpf_object__for_each_program(lp, lo)
		if (n < 256)
			snprintf(names[n++], sizeof(names[0]), "%s", bpf_program__name(lp));
	bpf_object__close(lo);
	for (int i = 0; i < n; i++) {
		char msg[512] = "";
		struct real_prog rp = { .image = what, .name = names[i], .comb_error = why, .kernel = -1,
					.kernel_usec = -1, .kernel_insns = -1 };
		if (ask_kernel)
			kernel_verdict(image, size, names[i], &rp, msg, sizeof(msg));
		fn(&rp, arg);
	}
}

struct walk {
	bool ask_kernel;
	real_prog_fn fn;
	void *arg;
	int objects;
};

static void walk_image(const char *what, const unsigned char *image, size_t size, void *arg)
{
	struct walk *w = arg;
	char err[512] = "";
	struct comb_object *obj = NULL;
	struct comb_vm *vm = NULL;
	struct comb_object_open_opts copts = { .sz = sizeof(copts), .name = what };
	w->objects++;
	int rc = comb_object_open_mem(image, size, &copts, &obj, err, sizeof(err));
	for (size_t i = 0; rc == 0 && i < comb_object_map_count(obj); i++) {
		struct comb_object_map_info mi;
		comb_object_map_info(obj, i, &mi);
		if (mi.max_entries == 0 && !mi.is_global_data && runtime_max_entries(mi.type))
			comb_object_set_map_max_entries(obj, i, runtime_max_entries(mi.type));
	}
	if (rc == 0)
		comb_object_set_verify(obj, false); /* verified one by one by the caller */
	if (rc || comb_vm_new(NULL, &vm) || comb_object_load(obj, vm, err, sizeof(err))) {
		walk_without_comb(what, image, size, err, w->ask_kernel, w->fn, w->arg);
		comb_object_close(obj);
		comb_vm_free(vm);
		return;
	}
	for (size_t i = 0; i < comb_object_prog_count(obj); i++) {
		struct comb_object_prog_info info;
		comb_object_prog_info(obj, i, &info);
		char msg[512] = "";
		struct real_prog rp = { .image = what, .name = info.name, .obj = obj, .index = i, .kernel = -1,
					.kernel_usec = -1, .kernel_insns = -1 };
		if (w->ask_kernel)
			kernel_verdict(image, size, info.name, &rp, msg, sizeof(msg));
		w->fn(&rp, w->arg);
	}
	comb_object_close(obj);
	comb_vm_free(vm);
}

int real_corpus_walk(char *const *paths, size_t npaths, bool ask_kernel, real_prog_fn fn, void *arg)
{
	struct walk w = { .ask_kernel = ask_kernel, .fn = fn, .arg = arg };
	libbpf_print_fn_t old = libbpf_set_print(remember_libbpf);
	if (npaths) {
		for (size_t i = 0; i < npaths; i++)
			bpf_images_in_file(paths[i], true, walk_image, &w);
	} else {
		bpf_images_in_corpus(walk_image, &w);
	}
	libbpf_set_print(old);
	return w.objects;
}
