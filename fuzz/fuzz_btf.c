/* fuzz/fuzz_btf.c - libFuzzer target for BTF and .BTF.ext parsing.
 *
 * The first input byte chooses the split point between a .BTF blob and a
 * .BTF.ext blob. The .BTF goes through comb_btf_from_data (libbpf's parser
 * plus comb's validation); when it is accepted, the validated BTF is dumped
 * type by type (walking sizes, as CO-RE does) and the .BTF.ext is parsed
 * against it, else without it. Nothing may crash, leak or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "loader/btf.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	if (!initialized) {
		libbpf_set_print(quiet);
		initialized = 1;
	}
	if (size < 1)
		return 0;
	size_t split = (size_t)data[0] * (size - 1) / 255;
	const uint8_t *btf_bytes = data + 1, *ext_bytes = data + 1 + split;
	size_t btf_size = split, ext_size = size - 1 - split;
	char err[256];
	struct btf *btf = NULL;
	if (comb_btf_from_data(btf_bytes, btf_size, &btf, err, sizeof(err)) == 0) {
		for (uint32_t id = 1; id < btf__type_cnt(btf); id++)
			(void)btf__resolve_size(btf, id);
	}
	struct comb_btf_ext *ext = NULL;
	if (comb_btf_ext_parse(ext_bytes, ext_size, btf, &ext, err, sizeof(err)) == 0) {
		for (int k = 0; k < COMB_BTF_EXT_KIND_COUNT; k++)
			for (size_t i = 0; i < comb_btf_ext_section_count(ext, k); i++)
				(void)comb_btf_ext_section(ext, k, i)->count;
		comb_btf_ext_free(ext);
	}
	btf__free(btf);
	return 0;
}
