/* tools/comb/cmd_prog.c - `comb prog list FILE.o [--json]`.
 *
 * Opens an ELF object (without loading it) and prints one line per program
 * in the order libbpf lists them, in the style of `bpftool prog show`:
 *
 *   0: xdp  name xdp_parse  section xdp  insns 107
 *
 * The instruction count is the entry function's own, before subprograms
 * are appended. --json prints an array of objects with the same facts.
 */
#include <string.h>

#include "cli.h"

static const char *prog_type_text(uint32_t type, char *buf, size_t len)
{
	const char *name = comb_prog_type_name(type);
	if (name)
		return name;
	snprintf(buf, len, "type_%u", type);
	return buf;
}

static void print_prog_line(size_t index, const struct comb_object_prog_info *info)
{
	char type_buf[24];
	printf("%zu: %s  name %s  section %s  insns %zu\n", index,
	       prog_type_text(info->prog_type, type_buf, sizeof(type_buf)), info->name,
	       info->section, info->insn_count);
}

static void print_prog_json(size_t index, const struct comb_object_prog_info *info)
{
	char type_buf[24];
	printf("%s{\"index\": %zu, \"name\": ", index ? ", " : "", index);
	cli_print_json_string(stdout, info->name);
	printf(", \"section\": ");
	cli_print_json_string(stdout, info->section);
	printf(", \"type\": ");
	cli_print_json_string(stdout, prog_type_text(info->prog_type, type_buf, sizeof(type_buf)));
	printf(", \"type_id\": %u, \"expected_attach_type\": %u, \"insns\": %zu}",
	       info->prog_type, info->expected_attach_type, info->insn_count);
}

static int list_programs(const struct cli_list_args *a, const struct comb_object *obj)
{
	size_t count = comb_object_prog_count(obj);
	if (a->json)
		printf("[");
	for (size_t i = 0; i < count; i++) {
		struct comb_object_prog_info info;
		int rc = comb_object_prog_info(obj, i, &info);
		if (rc) {
			fflush(stdout);
			return cli_error("%s: program %zu: %s", a->path, i, strerror(-rc));
		}
		if (a->json)
			print_prog_json(i, &info);
		else
			print_prog_line(i, &info);
	}
	if (a->json)
		printf("]\n");
	return fflush(stdout) ? cli_error("prog: cannot write to standard output") : CLI_OK;
}

int cmd_prog(int argc, char **argv)
{
	struct cli_list_args a;
	int status = cli_parse_list_args("prog", argc, argv, &a);
	if (status)
		return status;
	struct cli_object o;
	if (cli_open_listed_object(a.path, &o))
		return CLI_ERROR;
	status = list_programs(&a, o.obj);
	cli_object_close(&o);
	return status;
}
