/* src/helpers/string_helpers.c - bpf_snprintf, bpf_strncmp, bpf_strtol,
 * bpf_strtoul, with the kernel's rules and error codes.
 *
 * snprintf(str, size, fmt, data, data_len): data holds data_len / 8 u64
 * arguments (a multiple of 8, at most 12 of them, else -EINVAL). The
 * format accepts what the kernel's bpf_bprintf_prepare accepts: printable
 * ASCII, %%, flags from "0+- " and a width, then %d %i %u %x %X with
 * optional l or ll, %c, %s (read fault-safely; a bad pointer prints ""),
 * %p %px %pK (the pointer as 16 hex digits; the kernel would hash plain %p),
 * %pks %pus (strings) and %pI4 %pi4 %pI6 %pi6 (addresses read through the
 * pointer). Anything else, or more conversions than arguments, is -EINVAL.
 * It returns the formatted length plus one for the NUL, even when str was
 * too small (str is then truncated and NUL-terminated unless size is 0).
 *
 * strncmp compares at most s1_sz bytes as unsigned chars and returns -1, 0
 * or 1 as the kernel's lib/string.c does. strtol/strtoul follow
 * __bpf_strtoull: skip isspace() (the kernel's, 0xa0 included), an
 * optional '-', at most 63 further characters; base 0, 8, 10 or 16 in
 * flags (else -EINVAL), "0x" prefix for 16, "0" for 8 when base is 0; no
 * digit is -EINVAL, overflow -ERANGE, a '-' for strtoul -EINVAL. They
 * return the number of characters consumed and store the result only on
 * success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "helpers/helpers.h"

#define SNPRINTF_MAX_ARGS 12
#define SNPRINTF_STR_MAX  512
#define STRTOX_BASE_MASK  0x1fu
#define STRTOX_OVERFLOW   (1u << 31)

/* ---- memory the helpers read --------------------------------------------- */

/* Length of the NUL-terminated string at s, every byte of which the run may
 * read; -EFAULT when it may not. */
static long checked_strlen(const struct comb_call_ctx *cc, const char *s)
{
	for (long n = 0;; n++) {
		const char *at = (const char *)((uintptr_t)s + (uintptr_t)n);
		if (comb_call_check_mem(cc, at, 1, false))
			return -EFAULT;
		if (*at == 0)
			return n;
	}
}

/* Fault-safe copy of a string at an untrusted address into buf (cap > 0);
 * "" when it cannot be read. */
static void read_untrusted_string(char *buf, size_t cap, uint64_t addr)
{
	size_t done = 0;
	buf[0] = 0;
	while (done < cap - 1) {
		size_t chunk = 4096 - (addr + done) % 4096;
		if (chunk > cap - 1 - done)
			chunk = cap - 1 - done;
		struct iovec local = { buf + done, chunk }, remote = { (void *)(uintptr_t)(addr + done), chunk };
		if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)chunk) {
			buf[0] = 0;
			return;
		}
		if (memchr(buf + done, 0, chunk))
			return;
		done += chunk;
	}
	buf[done] = 0;
}

static void read_untrusted_bytes(void *buf, size_t size, uint64_t addr)
{
	struct iovec local = { buf, size }, remote = { (void *)(uintptr_t)addr, size };
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)size)
		memset(buf, 0, size);
}

/* ---- snprintf ------------------------------------------------------------ */

struct out_buf {
	char *str;
	uint64_t size;
	uint64_t len; /* what the whole output takes, truncated or not */
};

static void out_append(struct out_buf *o, const char *s, size_t n)
{
	if (o->size && o->len < o->size - 1) {
		size_t room = o->size - 1 - o->len;
		memcpy(o->str + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

/* Format one conversion with libc into o (spec is a complete "%...x"). */
static void out_format(struct out_buf *o, const char *spec, int kind, uint64_t arg, const char *s)
{
	char piece[SNPRINTF_STR_MAX + 64];
	int n;
	switch (kind) {
	case 's': n = snprintf(piece, sizeof(piece), spec, s); break;
	case 'i': n = snprintf(piece, sizeof(piece), spec, (int)arg); break;
	case 'I': n = snprintf(piece, sizeof(piece), spec, (unsigned)arg); break;
	case 'l': n = snprintf(piece, sizeof(piece), spec, (long long)arg); break;
	default: n = snprintf(piece, sizeof(piece), spec, (unsigned long long)arg); break;
	}
	if (n > 0)
		out_append(o, piece, (size_t)n < sizeof(piece) ? (size_t)n : sizeof(piece) - 1);
}

static void format_ip(char *buf, size_t cap, char style, char version, uint64_t addr)
{
	uint8_t ip[16];
	read_untrusted_bytes(ip, version == '4' ? 4 : 16, addr);
	if (version == '4') {
		snprintf(buf, cap, style == 'I' ? "%u.%u.%u.%u" : "%03u.%03u.%03u.%03u", ip[0], ip[1], ip[2], ip[3]);
		return;
	}
	size_t n = 0;
	for (int i = 0; i < 16; i += 2)
		n += (size_t)snprintf(buf + n, cap - n, style == 'I' && i ? ":%02x%02x" : "%02x%02x", ip[i], ip[i + 1]);
}

static bool is_printable_or_space(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r');
}

/* The %p family at fmt[i] == 'p': appends to o, returns the index of the
 * conversion's last character or -EINVAL. */
static long format_pointer(struct out_buf *o, const char *fmt, long i, const char *flags, uint64_t arg)
{
	char spec[48], text[SNPRINTF_STR_MAX];
	char next = fmt[i + 1];
	if ((next == 'k' || next == 'u') && fmt[i + 2] == 's') {
		read_untrusted_string(text, sizeof(text), arg);
		snprintf(spec, sizeof(spec), "%%%ss", flags);
		out_format(o, spec, 's', 0, text);
		return i + 2;
	}
	if (next == 'I' || next == 'i') {
		if (fmt[i + 2] != '4' && fmt[i + 2] != '6')
			return -EINVAL;
		format_ip(text, sizeof(text), next, fmt[i + 2], arg);
		snprintf(spec, sizeof(spec), "%%%ss", flags);
		out_format(o, spec, 's', 0, text);
		return i + 2;
	}
	bool bare = next == 0 || next == ' ' || (next >= '\t' && next <= '\r') ||
		    (next > 0x20 && next < 0x7f && !(next >= '0' && next <= '9') &&
		     !((next | 0x20) >= 'a' && (next | 0x20) <= 'z'));
	if (!bare && next != 'x' && next != 'K')
		return -EINVAL;
	snprintf(spec, sizeof(spec), "%%%s016llx", flags);
	out_format(o, spec, 'u', arg, NULL);
	return bare ? i : i + 1;
}

/* One conversion starting after the '%' at fmt[i]; returns the index of its
 * last character or -EINVAL. */
static long format_conversion(struct out_buf *o, const char *fmt, long i, uint64_t arg)
{
	char flags[24], spec[48], text[SNPRINTF_STR_MAX];
	long start = i;
	while (fmt[i] == '0' || fmt[i] == '+' || fmt[i] == '-' || fmt[i] == ' ')
		i++;
	if (fmt[i] >= '1' && fmt[i] <= '9')
		while (fmt[i] >= '0' && fmt[i] <= '9')
			i++;
	if (i - start >= (long)sizeof(flags))
		return -EINVAL;
	memcpy(flags, fmt + start, (size_t)(i - start));
	flags[i - start] = 0;
	if (fmt[i] == 'p')
		return format_pointer(o, fmt, i, flags, arg);
	if (fmt[i] == 's') {
		read_untrusted_string(text, sizeof(text), arg);
		snprintf(spec, sizeof(spec), "%%%ss", flags);
		out_format(o, spec, 's', 0, text);
		return i;
	}
	if (fmt[i] == 'c') {
		snprintf(spec, sizeof(spec), "%%%sc", flags);
		out_format(o, spec, 'i', (uint8_t)arg, NULL);
		return i;
	}
	bool wide = false;
	if (fmt[i] == 'l') {
		wide = true;
		i++;
		if (fmt[i] == 'l')
			i++;
	}
	char conv = fmt[i];
	if (conv != 'd' && conv != 'i' && conv != 'u' && conv != 'x' && conv != 'X')
		return -EINVAL;
	bool is_signed = conv == 'd' || conv == 'i';
	snprintf(spec, sizeof(spec), "%%%s%s%c", flags, wide ? "ll" : "", conv);
	out_format(o, spec, wide ? (is_signed ? 'l' : 'u') : (is_signed ? 'i' : 'I'), arg, NULL);
	return i;
}

/* The kernel's bpf_snprintf on validated memory: length + 1 or -EINVAL. */
static long comb_bpf_snprintf(char *str, uint64_t size, const char *fmt, const uint64_t *args, uint32_t nargs)
{
	struct out_buf o = { .str = str, .size = size };
	uint32_t used = 0;
	for (long i = 0; fmt[i]; i++) {
		unsigned char c = (unsigned char)fmt[i];
		if (!is_printable_or_space(c))
			return -EINVAL;
		if (c != '%') {
			out_append(&o, fmt + i, 1);
			continue;
		}
		if (fmt[i + 1] == '%') {
			out_append(&o, "%", 1);
			i++;
			continue;
		}
		if (used >= nargs)
			return -EINVAL;
		long end = format_conversion(&o, fmt, i + 1, args[used++]);
		if (end < 0)
			return end;
		i = end;
	}
	if (size)
		str[o.len < size ? o.len : size - 1] = 0;
	return (long)o.len + 1;
}

static uint64_t helper_snprintf(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				struct comb_call_ctx *cc)
{
	char *str = (char *)(uintptr_t)r1;
	const char *fmt = (const char *)(uintptr_t)r3;
	const uint64_t *data = (const uint64_t *)(uintptr_t)r4;
	if ((r5 & 7) || r5 > SNPRINTF_MAX_ARGS * 8 || (r5 && !data))
		return (uint64_t)-EINVAL;
	if ((r2 && comb_call_check_mem(cc, str, r2, true)) || checked_strlen(cc, fmt) < 0 ||
	    (r5 && comb_call_check_mem(cc, data, r5, false)))
		return (uint64_t)-EFAULT;
	uint64_t args[SNPRINTF_MAX_ARGS];
	if (r5)
		memcpy(args, data, r5);
	return (uint64_t)(int64_t)comb_bpf_snprintf(str, r2, fmt, args, (uint32_t)(r5 / 8));
}

/* ---- strncmp ------------------------------------------------------------- */

static uint64_t helper_strncmp(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			       struct comb_call_ctx *cc)
{
	const unsigned char *s1 = (const unsigned char *)(uintptr_t)r1;
	const unsigned char *s2 = (const unsigned char *)(uintptr_t)r3;
	if (comb_call_check_mem(cc, s1, r2, false) || checked_strlen(cc, (const char *)s2) < 0)
		return (uint64_t)-EFAULT;
	for (uint64_t i = 0; i < r2; i++) {
		if (s1[i] != s2[i])
			return s1[i] < s2[i] ? (uint64_t)-1 : 1;
		if (!s1[i])
			break;
	}
	return 0;
}

/* ---- strtol / strtoul ---------------------------------------------------- */

static bool kernel_isspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

static int digit_value(char c)
{
	char lc = (char)(c | 0x20);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (lc >= 'a' && lc <= 'f')
		return lc - 'a' + 10;
	return 99;
}

/* The kernel's _parse_integer: digits consumed, STRTOX_OVERFLOW or'ed in. */
static uint32_t parse_integer(const char *s, unsigned base, unsigned long long *res)
{
	unsigned long long value = 0;
	uint32_t rv = 0;
	for (;; s++) {
		int d = digit_value(*s);
		if (d >= (int)base)
			break;
		if ((value & (~0ull << 60)) && value > (~0ull - (unsigned)d) / base)
			rv |= STRTOX_OVERFLOW;
		value = value * base + (unsigned)d;
		rv++;
	}
	*res = value;
	return rv;
}

/* __bpf_strtoull: characters consumed or a negative errno. */
static long strtoull_kernel(const char *buf, uint64_t buf_len, uint64_t flags, unsigned long long *res,
			    bool *negative)
{
	unsigned base = (unsigned)(flags & STRTOX_BASE_MASK);
	if (!buf_len || (flags & ~(uint64_t)STRTOX_BASE_MASK) || (base != 0 && base != 8 && base != 10 && base != 16))
		return -EINVAL;
	uint64_t at = 0;
	while (at < buf_len && kernel_isspace((unsigned char)buf[at]))
		at++;
	*negative = at < buf_len && buf[at] == '-';
	if (*negative)
		at++;
	if (at == buf_len)
		return -EINVAL;
	char str[64];
	uint64_t len = buf_len - at < sizeof(str) - 1 ? buf_len - at : sizeof(str) - 1;
	memcpy(str, buf + at, len);
	str[len] = 0;
	const char *s = str;
	if (base == 0)
		base = s[0] == '0' ? ((s[1] | 0x20) == 'x' && digit_value(s[2]) < 16 ? 16 : 8) : 10;
	if (base == 16 && s[0] == '0' && (s[1] | 0x20) == 'x')
		s += 2;
	uint32_t digits = parse_integer(s, base, res);
	if (digits & STRTOX_OVERFLOW)
		return -ERANGE;
	if (digits == 0)
		return -EINVAL;
	return (long)(at + (uint64_t)(s - str) + digits);
}

/* What bpf_strtol and bpf_strtoul share: check buf (r1, r2 bytes) and the
 * 8-byte result slot (r4), then parse with flags r3. Returns the number of
 * characters consumed, or a negative errno. */
static long parse_number_arg(struct comb_call_ctx *cc, uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     unsigned long long *value, bool *negative)
{
	const char *buf = (const char *)(uintptr_t)r1;
	void *res = (void *)(uintptr_t)r4;
	if (!buf || !res)
		return -EINVAL;
	if (comb_call_check_mem(cc, buf, r2, false) || comb_call_check_mem(cc, res, sizeof(uint64_t), true))
		return -EFAULT;
	return strtoull_kernel(buf, r2, r3, value, negative);
}

static uint64_t helper_strtol(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			      struct comb_call_ctx *cc)
{
	unsigned long long value;
	bool negative;
	long rc = parse_number_arg(cc, r1, r2, r3, r4, &value, &negative);
	if (rc < 0)
		return (uint64_t)rc;
	if (negative ? (long long)-value > 0 : (long long)value < 0)
		return (uint64_t)-ERANGE;
	*(int64_t *)(uintptr_t)r4 = negative ? (int64_t)-value : (int64_t)value;
	return (uint64_t)rc;
}

static uint64_t helper_strtoul(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			       struct comb_call_ctx *cc)
{
	unsigned long long value;
	bool negative;
	long rc = parse_number_arg(cc, r1, r2, r3, r4, &value, &negative);
	if (rc < 0)
		return (uint64_t)rc;
	if (negative)
		return (uint64_t)-EINVAL;
	*(uint64_t *)(uintptr_t)r4 = value;
	return (uint64_t)rc;
}

int comb_register_string_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_STRTOL, "strtol", helper_strtol },
		{ HELPER_STRTOUL, "strtoul", helper_strtoul },
		{ HELPER_SNPRINTF, "snprintf", helper_snprintf },
		{ HELPER_STRNCMP, "strncmp", helper_strncmp },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
