/* tests/kernel/kernel_bpf.c - load and test-run programs in the kernel.
 *
 * Every program is loaded as BPF_PROG_TYPE_XDP: it accepts any scalar r0 and
 * BPF_PROG_TEST_RUN gives us its return value and average run time. libbpf's
 * own messages are silenced except for warnings, which go to stderr; the
 * verifier log of a rejected program is handed to the caller instead.
 */
#include "kernel_bpf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

_Static_assert(sizeof(struct comb_insn) == sizeof(struct bpf_insn),
	       "struct comb_insn must have the layout of struct bpf_insn");

static int print_libbpf_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void quiet_libbpf(void)
{
	static bool done;

	if (!done) {
		libbpf_set_print(print_libbpf_warnings);
		done = true;
	}
}

bool kernel_bpf_is_denied(int err)
{
	if (err < 0)
		err = -err;
	return err == EPERM || err == ENOSYS;
}

void kernel_bpf_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

int kernel_bpf_load_insns(const struct comb_insn *insns, size_t count, const char *name,
			  int *fd, char *log, size_t log_len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	int ret;

	quiet_libbpf();
	*fd = -1;
	if (log && log_len) {
		log[0] = '\0';
		opts.log_buf = log;
		opts.log_size = (uint32_t)log_len;
		opts.log_level = 0; /* libbpf retries with a log on failure */
	}
	ret = bpf_prog_load(BPF_PROG_TYPE_XDP, name, "GPL", (const struct bpf_insn *)insns,
			    count, &opts);
	if (ret < 0)
		return ret;
	*fd = ret;
	return 0;
}

static struct bpf_program *find_program(struct bpf_object *obj, const char *prog_name)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) {
		if (strcmp(bpf_program__name(prog), prog_name) == 0 ||
		    strcmp(bpf_program__section_name(prog), prog_name) == 0)
			return prog;
	}
	return NULL;
}

/* Load just the program asked for: the others may need things we lack. */
static void only_autoload(struct bpf_object *obj, struct bpf_program *wanted)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, prog == wanted);
}

int kernel_bpf_load_object(const char *path, const char *prog_name, int *fd, char *err,
			   size_t err_len)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int ret;

	quiet_libbpf();
	*fd = -1;
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		ret = -errno;
		snprintf(err, err_len, "%s: cannot open BPF object: %s", path, strerror(-ret));
		return ret;
	}
	prog = find_program(obj, prog_name);
	if (!prog) {
		snprintf(err, err_len, "%s: no program named %s", path, prog_name);
		bpf_object__close(obj);
		return -ENOENT;
	}
	only_autoload(obj, prog);
	ret = bpf_object__load(obj);
	if (ret < 0) {
		snprintf(err, err_len, "%s: kernel refused program %s: %s", path, prog_name,
			 strerror(-ret));
	} else {
		ret = dup(bpf_program__fd(prog));
		if (ret < 0) {
			ret = -errno;
			snprintf(err, err_len, "%s: dup: %s", path, strerror(-ret));
		} else {
			*fd = ret;
			ret = 0;
		}
	}
	bpf_object__close(obj);
	return ret;
}

bool kernel_bpf_verify_program(const char *path, const char *prog_name, uint32_t log_level, char *log,
			       size_t log_len, int *rc, int *err)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return false;
	struct bpf_program *prog, *wanted = NULL;
	bpf_object__for_each_program(prog, obj) {
		if (strcmp(bpf_program__name(prog), prog_name) == 0)
			wanted = prog;
	}
	if (!wanted) {
		bpf_object__close(obj);
		return false;
	}
	only_autoload(obj, wanted);
	log[0] = 0;
	bpf_program__set_log_buf(wanted, log, log_len);
	bpf_program__set_log_level(wanted, log_level);
	*rc = bpf_object__load(obj);
	*err = errno;
	bpf_object__close(obj);
	return true;
}

int kernel_bpf_test_run(int fd, const void *data, size_t data_len, uint32_t repeat,
			uint32_t *retval, uint32_t *duration_ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (uint32_t)data_len,
		    .repeat = repeat ? repeat : 1);
	int ret;

	ret = bpf_prog_test_run_opts(fd, &opts);
	if (ret < 0)
		return ret;
	*retval = opts.retval;
	if (duration_ns)
		*duration_ns = opts.duration;
	return 0;
}

int kernel_bpf_test_run_packet(int fd, const void *data, size_t data_len, void *out, size_t *out_len,
			       uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (uint32_t)data_len,
		    .data_out = out, .data_size_out = (uint32_t)*out_len, .repeat = 1);
	int ret = bpf_prog_test_run_opts(fd, &opts);
	if (ret < 0)
		return ret;
	*retval = opts.retval;
	*out_len = opts.data_size_out;
	return 0;
}

void kernel_tally_report(struct kernel_tally *t, bool ok, const char *test, const char *why)
{
	if (ok) {
		t->passed++;
		if (t->verbose)
			printf("PASS %s\n", test);
	} else {
		t->failed++;
		printf("FAIL %s: %s\n", test, why);
	}
}

int kernel_bpf_probe(char *reason, size_t reason_len)
{
	/* r0 = XDP_PASS; exit */
	static const struct comb_insn pass[] = {
		{ .code = COMB_CLS_ALU64 | COMB_ALU_MOV | COMB_SRC_K, .dst = 0, .imm = 2 },
		{ .code = COMB_CLS_JMP | COMB_JMP_EXIT },
	};
	unsigned char packet[64] = { 0 };
	uint32_t retval = 0;
	int fd, ret;

	ret = kernel_bpf_load_insns(pass, 2, "comb_probe", &fd, NULL, 0);
	if (ret < 0) {
		snprintf(reason, reason_len, "bpf() not permitted: loading an XDP program: %s",
			 strerror(-ret));
		return ret;
	}
	ret = kernel_bpf_test_run(fd, packet, sizeof(packet), 1, &retval, NULL);
	kernel_bpf_close(fd);
	if (ret < 0) {
		snprintf(reason, reason_len, "BPF_PROG_TEST_RUN not permitted: %s", strerror(-ret));
		return ret;
	}
	if (retval != 2) {
		snprintf(reason, reason_len, "BPF_PROG_TEST_RUN returned %u, expected 2", retval);
		return -EIO;
	}
	return 0;
}
