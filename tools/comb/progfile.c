/* tools/comb/progfile.c - programs from files.
 *
 * A program file is assembly text (.s), raw instructions (.bin: 8-byte
 * little-endian slots, as `llvm-objcopy -O binary` writes them) or an ELF
 * object (recognised by its magic). The content decides first (ELF magic),
 * then the extension, then whether the bytes look like text. Assembly and
 * raw files become a cli_program; ELF objects go through libcomb's loader
 * (cli_open_object), and commands pick one of their programs by name
 * (cli_pick_object_prog). Every failure is printed here as `comb: FILE: ...`
 * so callers only propagate the error code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_FILE_BYTES (256u << 20)

static int read_fd(int fd, struct cli_buffer *buf)
{
	size_t cap = 4096, len = 0;
	uint8_t *data = malloc(cap + 1);
	if (!data)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_BYTES) {
				free(data);
				return -EFBIG;
			}
			cap *= 2;
			uint8_t *bigger = realloc(data, cap + 1);
			if (!bigger) {
				free(data);
				return -ENOMEM;
			}
			data = bigger;
		}
		ssize_t got = read(fd, data + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int rc = -errno;
			free(data);
			return rc;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	data[len] = 0;
	buf->data = data;
	buf->len = len;
	return 0;
}

int cli_read_file(const char *path, struct cli_buffer *buf)
{
	buf->data = NULL;
	buf->len = 0;
	if (strcmp(path, "-") == 0) {
		int rc = read_fd(STDIN_FILENO, buf);
		if (rc)
			cli_error("%s: cannot read standard input: %s", path, strerror(-rc));
		return rc;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		cli_error("%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		cli_error("%s: is a directory, expected a file", path);
		return -EISDIR;
	}
	int rc = read_fd(fd, buf);
	close(fd);
	if (rc == -EFBIG)
		cli_error("%s: file larger than %u MiB", path, MAX_FILE_BYTES >> 20);
	else if (rc)
		cli_error("%s: cannot read: %s", path, strerror(-rc));
	return rc;
}

void cli_buffer_free(struct cli_buffer *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
}

static bool has_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path), m = strlen(suffix);
	return n >= m && strcmp(path + n - m, suffix) == 0;
}

static bool looks_like_text(const struct cli_buffer *buf)
{
	for (size_t i = 0; i < buf->len; i++) {
		uint8_t c = buf->data[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
			return false;
	}
	return true;
}

enum cli_prog_format cli_detect_format(const char *path, const struct cli_buffer *buf)
{
	if (buf->len >= 4 && memcmp(buf->data, "\x7f" "ELF", 4) == 0)
		return CLI_PROG_ELF;
	if (has_suffix(path, ".s") || has_suffix(path, ".S") || has_suffix(path, ".asm"))
		return CLI_PROG_ASM;
	if (has_suffix(path, ".bin") || has_suffix(path, ".raw"))
		return CLI_PROG_RAW;
	return looks_like_text(buf) ? CLI_PROG_ASM : CLI_PROG_RAW;
}

void cli_insn_to_bytes(const struct comb_insn *insn, uint8_t out[8])
{
	uint16_t off = (uint16_t)insn->off;
	uint32_t imm = (uint32_t)insn->imm;
	out[0] = insn->code;
	out[1] = (uint8_t)(insn->dst | insn->src << 4);
	out[2] = (uint8_t)off;
	out[3] = (uint8_t)(off >> 8);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(imm >> (8 * i));
}

void cli_insn_from_bytes(const uint8_t in[8], struct comb_insn *insn)
{
	insn->code = in[0];
	insn->dst = in[1] & 0x0f;
	insn->src = in[1] >> 4;
	insn->off = (int16_t)(uint16_t)(in[2] | in[3] << 8);
	uint32_t imm = (uint32_t)in[4] | (uint32_t)in[5] << 8 | (uint32_t)in[6] << 16 |
		       (uint32_t)in[7] << 24;
	insn->imm = (int32_t)imm;
}

void cli_insn_from_u64(uint64_t word, struct comb_insn *insn)
{
	uint8_t bytes[8];
	for (int i = 0; i < 8; i++)
		bytes[i] = (uint8_t)(word >> (8 * i));
	cli_insn_from_bytes(bytes, insn);
}

int cli_program_from_bytes(const char *where, const uint8_t *bytes, size_t len,
			   struct cli_program *prog)
{
	prog->insns = NULL;
	prog->count = 0;
	if (len == 0) {
		cli_error("%s: empty program: no instructions", where);
		return -EINVAL;
	}
	if (len % 8) {
		cli_error("%s: size %zu bytes is not a multiple of 8 (one instruction slot is 8 "
			  "bytes): truncated or not raw eBPF instructions",
			  where, len);
		return -EINVAL;
	}
	prog->count = len / 8;
	prog->insns = calloc(prog->count, sizeof(*prog->insns));
	if (!prog->insns) {
		cli_error("%s: out of memory", where);
		return -ENOMEM;
	}
	for (size_t i = 0; i < prog->count; i++)
		cli_insn_from_bytes(bytes + 8 * i, &prog->insns[i]);
	return 0;
}

int cli_assemble(const char *where, const char *source, struct cli_program *prog)
{
	struct comb_asm_error err = { 0 };
	prog->insns = NULL;
	prog->count = 0;
	int rc = comb_asm(source, &prog->insns, &prog->count, &err);
	if (rc) {
		if (err.line > 0)
			cli_error("%s: line %d, column %d: %s", where, err.line, err.column,
				  err.message[0] ? err.message : "invalid assembly");
		else
			cli_error("%s: %s", where, err.message[0] ? err.message : "invalid assembly");
		return rc < 0 ? rc : -EINVAL;
	}
	if (prog->count == 0) {
		cli_program_free(prog);
		cli_error("%s: no instructions in the assembly (add at least `exit`)", where);
		return -EINVAL;
	}
	return 0;
}

void cli_program_free(struct cli_program *prog)
{
	free(prog->insns);
	prog->insns = NULL;
	prog->count = 0;
}

int cli_program_from_buffer(const char *path, const struct cli_buffer *buf,
			    struct cli_program *prog)
{
	switch (cli_detect_format(path, buf)) {
	case CLI_PROG_ELF:
		cli_error("%s: an ELF object, not a single program; open it with "
			  "cli_open_object", path);
		return -ENOTSUP;
	case CLI_PROG_RAW:
		return cli_program_from_bytes(path, buf->data, buf->len, prog);
	case CLI_PROG_ASM:
		if (memchr(buf->data, 0, buf->len)) {
			cli_error("%s: contains NUL bytes: not assembly text", path);
			return -EINVAL;
		}
		return cli_assemble(path, (const char *)buf->data, prog);
	}
	return -EINVAL;
}

int cli_load_program_file(const char *path, struct cli_program *prog)
{
	struct cli_buffer buf;
	prog->insns = NULL;
	prog->count = 0;
	int rc = cli_read_file(path, &buf);
	if (rc)
		return rc;
	rc = cli_program_from_buffer(path, &buf, prog);
	cli_buffer_free(&buf);
	return rc;
}

/* ---- ELF objects ---------------------------------------------------- */

static int open_object(const char *path, const struct cli_buffer *buf, bool load, bool verify,
		       struct cli_object *o)
{
	char err[1024] = "";
	struct comb_object_open_opts opts = { .sz = sizeof(opts), .name = path };
	*o = (struct cli_object){ 0 };
	int rc = comb_object_open_mem(buf->data, buf->len, &opts, &o->obj, err, sizeof(err));
	if (rc) {
		/* The loader's messages start with the file name already. */
		if (strncmp(err, path, strlen(path)) == 0)
			cli_error("%s", err);
		else
			cli_error("%s: %s", path, err[0] ? err : strerror(-rc));
		o->obj = NULL;
		return rc;
	}
	if (!load)
		return 0;
	rc = cli_load_opened_object(path, o, verify);
	if (rc)
		cli_object_close(o);
	return rc;
}

int cli_load_opened_object(const char *path, struct cli_object *o, bool verify)
{
	struct comb_vm_opts vm_opts = { .sz = sizeof(vm_opts) };
	int rc = comb_vm_new(&vm_opts, &o->vm);
	if (rc) {
		o->vm = NULL;
		return cli_error("%s: cannot create a VM: %s", path, strerror(-rc)), rc;
	}
	char err[1024] = "";
	rc = comb_object_set_verify(o->obj, verify);
	if (!rc)
		rc = comb_object_load(o->obj, o->vm, err, sizeof(err));
	/* The loader's messages start with the file name already. */
	if (rc && strncmp(err, path, strlen(path)) == 0)
		cli_error("%s", err);
	else if (rc)
		cli_error("%s: cannot load: %s", path, err[0] ? err : strerror(-rc));
	return rc;
}

/* Commands that only look at programs (disasm, verify, map) load them
 * unverified: they never run them, and `comb verify` reports every verdict. */
int cli_open_object(const char *path, const struct cli_buffer *buf, bool load,
		    struct cli_object *o)
{
	return open_object(path, buf, load, false, o);
}

int cli_open_object_to_run(const char *path, const struct cli_buffer *buf, bool verify,
			   struct cli_object *o)
{
	return open_object(path, buf, true, verify, o);
}

void cli_object_close(struct cli_object *o)
{
	/* The object's programs live in the VM: close the object first. */
	if (o->obj)
		comb_object_close(o->obj);
	if (o->vm)
		comb_vm_free(o->vm);
	*o = (struct cli_object){ 0 };
}

static void list_prog_names(const struct comb_object *obj, char *out, size_t len)
{
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < comb_object_prog_count(obj) && used < len; i++) {
		struct comb_object_prog_info info;
		if (comb_object_prog_info(obj, i, &info) == 0)
			used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
						 info.name);
	}
}

int cli_pick_object_prog(const char *path, const struct comb_object *obj, const char *name,
			 size_t *index)
{
	char names[512];
	size_t count = comb_object_prog_count(obj);
	if (count == 0) {
		cli_error("%s: the object has no programs", path);
		return -ENOENT;
	}
	list_prog_names(obj, names, sizeof(names));
	if (name) {
		int found = comb_object_find_prog(obj, name);
		if (found < 0) {
			cli_error("%s: no program named '%s'; the object has: %s", path, name, names);
			return -ENOENT;
		}
		*index = (size_t)found;
		return 0;
	}
	if (count > 1) {
		cli_error("%s: the object has %zu programs (%s); choose one with --prog NAME", path,
			  count, names);
		return -EINVAL;
	}
	*index = 0;
	return 0;
}

/* Shared by `prog list` and `map list`: `list FILE [--json]`. */
int cli_parse_list_args(const char *cmd, int argc, char **argv, struct cli_list_args *a)
{
	*a = (struct cli_list_args){ 0 };
	if (argc < 2)
		return cli_usage_error(cmd, "missing the action (list)");
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "show") != 0)
		return cli_usage_error(cmd, "unknown action '%s' (use list)", argv[1]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			a->json = true;
		else if (argv[i][0] == '-' && argv[i][1] != 0)
			return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
		else if (a->path)
			return cli_usage_error(cmd, "more than one object ('%s' and '%s')", a->path,
					       argv[i]);
		else
			a->path = argv[i];
	}
	if (!a->path)
		return cli_usage_error(cmd, "missing the object file");
	return CLI_OK;
}

/* Read path and open it as an ELF object (not loaded). */
int cli_open_listed_object(const char *path, struct cli_object *o)
{
	struct cli_buffer buf;
	if (cli_read_file(path, &buf))
		return CLI_ERROR;
	int status = CLI_OK;
	if (cli_detect_format(path, &buf) != CLI_PROG_ELF)
		status = cli_error("%s: not an ELF object (no ELF magic); expected an object "
				   "built by clang -target bpf",
				   path);
	else if (cli_open_object(path, &buf, false, o))
		status = CLI_ERROR;
	cli_buffer_free(&buf);
	return status;
}

void cli_print_json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)text; c && *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(out, "\\u%04x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}
