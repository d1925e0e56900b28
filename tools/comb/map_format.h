/* tools/comb/map_format.h - map keys and values as text, both ways.
 *
 * Parsing: what `comb map lookup|update|delete` accept for KEY and VALUE.
 * Printing: entries the way `bpftool map dump` and `bpftool -j map dump`
 * print them, per-CPU maps (one value per CPU) included. A map_layout says
 * how many bytes a key and a user-space value take for one map.
 */
#ifndef COMB_CLI_MAP_FORMAT_H
#define COMB_CLI_MAP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <comb/map.h>

/* The user-space view of a map's entries: a per-CPU map's value is nr_cpus
 * slots of value_stride bytes (value_size rounded up to 8), as the
 * kernel's bpf() hands it to user space. */
struct map_layout {
	uint32_t key_size, value_size;
	bool percpu;
	uint32_t nr_cpus;      /* 1 unless percpu */
	uint32_t value_stride; /* bytes between two CPUs' values */
	size_t value_bytes;    /* the whole user-space value: nr_cpus * stride */
};
void map_layout_of(const struct comb_map_info *info, struct map_layout *layout);

/* Bytes from the command line. args[0..count) are the words after KEY or
 * VALUE. Accepted forms (every byte in hex):
 *   "0a000001"        one word, an even number of digits
 *   "0a 00 00 01"     one word or several, one byte each ("a" is 0x0a)
 *   "0x0a 0x00"       with 0x prefixes; commas also separate
 *   hex 0a 00 00 01   bpftool's form: the word `hex`, then bytes in hex
 * With decimal true (bpftool's form without `hex`: `key 10 0 0 1`), each
 * word is one byte read as C reads numbers (10, 0x0a, 012).
 * Returns 0 with *bytes malloc'd, or -EINVAL with a message in err. */
int map_parse_bytes(char **args, int count, bool decimal, uint8_t **bytes, size_t *len, char *err,
		    size_t err_len);

/* Check that got bytes fit what (KEY/VALUE) of map name: 0, or -EINVAL
 * with a message saying both sizes. */
int map_check_size(const char *what, size_t got, size_t want, const char *name, char *err,
		   size_t err_len);

/* bytes as bpftool prints them: "0a 00 00 01", an extra space after every
 * 8th byte and a new line after every 16th. */
void map_print_hex(FILE *out, const uint8_t *bytes, size_t len);
/* One entry as `bpftool map dump` prints it (ends with a newline). */
void map_print_entry(FILE *out, const struct map_layout *layout, const uint8_t *key,
		     const uint8_t *value);
/* One entry as a JSON object, as `bpftool -j map dump` prints it:
 * {"key":["0x0a",...],"value":[...]} or, per-CPU,
 * {"key":[...],"values":[{"cpu":0,"value":[...]},...]}. */
void map_print_entry_json(FILE *out, const struct map_layout *layout, const uint8_t *key,
			  const uint8_t *value);
/* The same without the braces: "key":[...],"value":[...] (to add more
 * fields, such as bpftool's "formatted" for maps with BTF). */
void map_print_entry_json_fields(FILE *out, const struct map_layout *layout, const uint8_t *key,
				 const uint8_t *value);

#endif
