/* tools/comb/cmd_btf.c - `comb btf dump FILE [--format c|raw]`.
 *
 * FILE is an ELF object with a .BTF section or raw BTF such as
 * /sys/kernel/btf/vmlinux; it is loaded and validated by the loader
 * (comb_btf_load_target). `raw` lists every type the way `bpftool btf
 * dump file F` does; `c` prints a header through libbpf's btf_dump with
 * bpftool's vmlinux.h prologue and epilogue, so both outputs can be
 * compared line for line with bpftool's.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <string.h>

#include <bpf/btf.h>

#include "cli.h"
#include "loader/btf.h"

static const char *const kind_names[] = {
	"UNKNOWN", "INT", "PTR", "ARRAY", "STRUCT", "UNION", "ENUM", "FWD", "TYPEDEF",
	"VOLATILE", "CONST", "RESTRICT", "FUNC", "FUNC_PROTO", "VAR", "DATASEC", "FLOAT",
	"DECL_TAG", "TYPE_TAG", "ENUM64",
};

static const char *kind_name(const struct btf_type *t)
{
	unsigned k = btf_kind(t);
	return k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "UNKNOWN";
}

static const char *name_or_anon(const struct btf *btf, uint32_t off)
{
	const char *s = btf__name_by_offset(btf, off);
	return s && *s ? s : "(anon)";
}

static const char *int_encoding(const struct btf_type *t)
{
	switch (btf_int_encoding(t)) {
	case 0: return "(none)";
	case BTF_INT_SIGNED: return "SIGNED";
	case BTF_INT_CHAR: return "CHAR";
	case BTF_INT_BOOL: return "BOOL";
	default: return "UNKN";
	}
}

static const char *linkage_name(uint32_t linkage)
{
	switch (linkage) {
	case 0: return "static";
	case 1: return "global";
	case 2: return "extern";
	default: return "(unknown)";
	}
}

static void print_members(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);
	for (uint32_t i = 0; i < btf_vlen(t); i++, m++) {
		printf("\n\t'%s' type_id=%u bits_offset=%u", name_or_anon(btf, m->name_off), m->type,
		       btf_member_bit_offset(t, i));
		if (btf_member_bitfield_size(t, i))
			printf(" bitfield_size=%u", btf_member_bitfield_size(t, i));
	}
}

static void print_enum(const struct btf *btf, const struct btf_type *t)
{
	bool is_signed = btf_kflag(t);
	printf(" encoding=%s size=%u vlen=%u", is_signed ? "SIGNED" : "UNSIGNED", t->size,
	       btf_vlen(t));
	for (uint32_t i = 0; i < btf_vlen(t); i++) {
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;
			printf(is_signed ? "\n\t'%s' val=%d" : "\n\t'%s' val=%u",
			       name_or_anon(btf, e->name_off), e->val);
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;
			uint64_t v = btf_enum64_value(e);
			if (is_signed)
				printf("\n\t'%s' val=%" PRId64 "LL", name_or_anon(btf, e->name_off),
				       (int64_t)v);
			else
				printf("\n\t'%s' val=%" PRIu64 "ULL", name_or_anon(btf, e->name_off), v);
		}
	}
}

static void print_params(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_param *p = btf_params(t);
	for (uint32_t i = 0; i < btf_vlen(t); i++, p++)
		printf("\n\t'%s' type_id=%u", name_or_anon(btf, p->name_off), p->type);
}

static void print_datasec(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_var_secinfo *s = btf_var_secinfos(t);
	printf(" size=%u vlen=%u", t->size, btf_vlen(t));
	for (uint32_t i = 0; i < btf_vlen(t); i++, s++) {
		const struct btf_type *var = btf__type_by_id(btf, s->type);
		printf("\n\ttype_id=%u offset=%u size=%u (%s '%s')", s->type, s->offset, s->size,
		       kind_name(var), name_or_anon(btf, var->name_off));
	}
}

static void print_raw_type(const struct btf *btf, uint32_t id, const struct btf_type *t)
{
	printf("[%u] %s '%s'", id, kind_name(t), name_or_anon(btf, t->name_off));
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		printf(" size=%u bits_offset=%u nr_bits=%u encoding=%s", t->size, btf_int_offset(t),
		       btf_int_bits(t), int_encoding(t));
		break;
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_TYPE_TAG:
		printf(" type_id=%u", t->type);
		break;
	case BTF_KIND_ARRAY:
		printf(" type_id=%u index_type_id=%u nr_elems=%u", btf_array(t)->type,
		       btf_array(t)->index_type, btf_array(t)->nelems);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		printf(" size=%u vlen=%u", t->size, btf_vlen(t));
		print_members(btf, t);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		print_enum(btf, t);
		break;
	case BTF_KIND_FWD:
		printf(" fwd_kind=%s", btf_kflag(t) ? "union" : "struct");
		break;
	case BTF_KIND_FUNC:
		printf(" type_id=%u linkage=%s", t->type, linkage_name(btf_vlen(t)));
		break;
	case BTF_KIND_FUNC_PROTO:
		printf(" ret_type_id=%u vlen=%u", t->type, btf_vlen(t));
		print_params(btf, t);
		break;
	case BTF_KIND_VAR:
		printf(" type_id=%u, linkage=%s", t->type, linkage_name(btf_var(t)->linkage));
		break;
	case BTF_KIND_DATASEC:
		print_datasec(btf, t);
		break;
	case BTF_KIND_FLOAT:
		printf(" size=%u", t->size);
		break;
	case BTF_KIND_DECL_TAG:
		printf(" type_id=%u component_idx=%d", t->type, btf_decl_tag(t)->component_idx);
		break;
	default:
		break;
	}
	printf("\n");
}

static void dump_raw(const struct btf *btf)
{
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++)
		print_raw_type(btf, id, btf__type_by_id(btf, id));
}

/* btf_dump prints in small pieces. libbpf 1.1 writes an empty parameter
 * list as "()" where newer libbpf (and so bpftool) writes "(void)": when a
 * lone ")" follows a lone "(", insert the "void". Like bpftool, leave out
 * libbpf 1.1's __attribute__((mode(byte))) on enums of less than 4 bytes. */
struct c_printer {
	bool after_open_paren;
};

static void print_c_piece(void *ctx, const char *fmt, va_list args)
{
	struct c_printer *p = ctx;
	char piece[256];
	va_list copy;
	va_copy(copy, args);
	int n = vsnprintf(piece, sizeof(piece), fmt, copy);
	va_end(copy);
	if (n < 0 || (size_t)n >= sizeof(piece)) {
		vprintf(fmt, args);
		p->after_open_paren = false;
		return;
	}
	/* bpftool 7.1 does not print the mode attribute of small enums either. */
	if (strncmp(piece, " __attribute__((mode(", 21) == 0)
		return;
	if (p->after_open_paren && strcmp(piece, ")") == 0)
		fputs("void", stdout);
	fputs(piece, stdout);
	p->after_open_paren = strcmp(piece, "(") == 0;
}

static int dump_c(const char *path, const struct btf *btf)
{
	struct c_printer printer = { false };
	struct btf_dump *d = btf_dump__new(btf, print_c_piece, &printer, NULL);
	if (!d)
		return cli_error("%s: cannot create the C dumper", path);
	printf("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
	       "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
	       "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
	       "#endif\n\n");
	int rc = 0;
	for (uint32_t id = 1; id < btf__type_cnt(btf) && !rc; id++)
		rc = btf_dump__dump_type(d, id);
	btf_dump__free(d);
	if (rc)
		return cli_error("%s: cannot dump type as C: %s", path, strerror(-rc));
	printf("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
	       "#endif /* __VMLINUX_H__ */\n");
	return CLI_OK;
}

int cmd_btf(int argc, char **argv)
{
	const char *file = NULL, *format = "raw";
	if (argc < 2 || strcmp(argv[1], "dump") != 0)
		return cli_usage_error("btf", argc < 2 ? "missing subcommand" : "unknown subcommand '%s'",
				       argc < 2 ? "" : argv[1]);
	for (int i = 2; i < argc; i++) {
		int got = cli_option_value(argc, argv, &i, "--format", &format);
		if (got < 0)
			return cli_usage_error("btf", "--format needs a value");
		if (got)
			continue;
		/* bpftool's spelling: `dump file F format c` */
		if (!file && strcmp(argv[i], "file") == 0 && i + 1 < argc) {
			file = argv[++i];
			continue;
		}
		if (file && strcmp(argv[i], "format") == 0 && i + 1 < argc) {
			format = argv[++i];
			continue;
		}
		if (file)
			return cli_usage_error("btf", "more than one FILE");
		file = argv[i];
	}
	if (!file)
		return cli_usage_error("btf", "missing FILE");
	if (strcmp(format, "c") != 0 && strcmp(format, "raw") != 0)
		return cli_usage_error("btf", "unknown format '%s' (c or raw)", format);
	struct btf *btf;
	char err[256];
	if (comb_btf_load_target(file, &btf, err, sizeof(err)))
		return cli_error("%s", err);
	int rc = CLI_OK;
	if (strcmp(format, "c") == 0)
		rc = dump_c(file, btf);
	else
		dump_raw(btf);
	btf__free(btf);
	if (rc == CLI_OK && fflush(stdout))
		return cli_error("btf: cannot write to standard output");
	return rc;
}
