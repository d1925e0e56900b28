/* src/helpers/print_helpers.c - bpf_trace_printk.
 *
 * trace_printk(fmt, fmt_size, a1, a2, a3) formats up to three arguments with
 * the subset of printf the kernel accepts (flags, width, precision; %d %i %u
 * %x %X %o with optional l/ll, %c, %s, %p, %%) and writes the line to stderr
 * as "comb: bpf_trace_printk: ...". Like the kernel it answers -EINVAL for a
 * format without its NUL inside fmt_size, an unknown conversion or a fourth
 * argument, and reads %s strings through the checked engine's memory rule
 * (an unreadable string prints as empty, as the kernel's fault does).
 * Returns the number of characters written (without the line prefix).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "helpers/helpers.h"

#define PRINTK_OUT_MAX 1024
#define PRINTK_STR_MAX 256

struct printk_state {
	const struct comb_call_ctx *cc;
	const uint64_t *args;
	int next_arg;
	char out[PRINTK_OUT_MAX];
	size_t len;
};

static void printk_append(struct printk_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void printk_append(struct printk_state *st, const char *fmt, ...)
{
	if (st->len >= sizeof(st->out) - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(st->out + st->len, sizeof(st->out) - st->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		st->len += (size_t)n < sizeof(st->out) - st->len ? (size_t)n : sizeof(st->out) - 1 - st->len;
}

/* Copy the program's string at addr into buf (empty when unreadable). */
static void printk_read_string(const struct comb_call_ctx *cc, uint64_t addr, char *buf, size_t size)
{
	const char *s = (const char *)(uintptr_t)addr;
	size_t n = 0;
	if (s) {
		while (n + 1 < size && comb_call_check_mem(cc, s + n, 1, false) == 0 && s[n])
			n++;
	}
	if (s && n + 1 < size && comb_call_check_mem(cc, s + n, 1, false) != 0)
		n = 0; /* ran into memory the program may not read */
	memcpy(buf, s ? s : "", s ? n : 0);
	buf[n] = '\0';
}

/* Format one conversion starting at fmt (just past '%'); returns the
 * characters consumed, or -EINVAL. */
static int printk_conversion(struct printk_state *st, const char *fmt)
{
	char spec[32] = "%";
	size_t i = 0, s = 1;
	while (fmt[i] && strchr("-+ #0", fmt[i]) && s < 8)
		spec[s++] = fmt[i++];
	while (fmt[i] >= '0' && fmt[i] <= '9' && s < 16)
		spec[s++] = fmt[i++];
	if (fmt[i] == '.') {
		spec[s++] = fmt[i++];
		while (fmt[i] >= '0' && fmt[i] <= '9' && s < 24)
			spec[s++] = fmt[i++];
	}
	int longs = 0;
	while (fmt[i] == 'l' && longs < 2) {
		longs++;
		i++;
	}
	char conv = fmt[i++];
	if (conv == '%' && longs == 0 && s == 1) {
		printk_append(st, "%%");
		return (int)i;
	}
	if (!conv || !strchr("diuxXocsp", conv) || (longs && strchr("csp", conv)))
		return -EINVAL;
	if (st->next_arg >= 3)
		return -EINVAL;
	uint64_t arg = st->args[st->next_arg++];
	char str[PRINTK_STR_MAX];
	switch (conv) {
	case 'd': case 'i':
		memcpy(spec + s, "lld", 4);
		printk_append(st, spec, longs ? (long long)(int64_t)arg : (long long)(int32_t)arg);
		break;
	case 'u': case 'x': case 'X': case 'o':
		memcpy(spec + s, "ll", 2);
		spec[s + 2] = conv;
		spec[s + 3] = '\0';
		printk_append(st, spec, longs ? (unsigned long long)arg : (unsigned long long)(uint32_t)arg);
		break;
	case 'c':
		memcpy(spec + s, "c", 2);
		printk_append(st, spec, (int)(uint8_t)arg);
		break;
	case 's':
		printk_read_string(st->cc, arg, str, sizeof(str));
		memcpy(spec + s, "s", 2);
		printk_append(st, spec, str);
		break;
	case 'p':
		printk_append(st, "0x%llx", (unsigned long long)arg);
		break;
	}
	return (int)i;
}

static uint64_t helper_trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				    struct comb_call_ctx *cc)
{
	const char *fmt = (const char *)(uintptr_t)r1;
	uint32_t fmt_size = (uint32_t)r2;
	if (!fmt || fmt_size == 0)
		return (uint64_t)(int64_t)-EINVAL;
	if (comb_call_check_mem(cc, fmt, fmt_size, false))
		return (uint64_t)(int64_t)-EFAULT;
	if (!memchr(fmt, '\0', fmt_size))
		return (uint64_t)(int64_t)-EINVAL;
	const uint64_t args[3] = { r3, r4, r5 };
	struct printk_state st = { .cc = cc, .args = args };
	for (size_t i = 0; fmt[i];) {
		if (fmt[i] != '%') {
			printk_append(&st, "%c", fmt[i++]);
			continue;
		}
		int used = printk_conversion(&st, fmt + i + 1);
		if (used < 0)
			return (uint64_t)(int64_t)used;
		i += 1 + (size_t)used;
	}
	bool newline = st.len && st.out[st.len - 1] == '\n';
	fprintf(stderr, "comb: bpf_trace_printk: %s%s", st.out, newline ? "" : "\n");
	return st.len;
}

int comb_register_print_helpers(struct comb_vm *vm)
{
	return comb_vm_register_helper(vm, HELPER_TRACE_PRINTK, "trace_printk", helper_trace_printk);
}
