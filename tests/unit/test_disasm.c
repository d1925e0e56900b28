/* test_disasm.c - the disassembler against llvm-objdump-19 and its own syntax.
 *
 * The LLVM-syntax expectations below were produced by llvm-objdump-19 -d on an
 * object built with llvm-mc-19 from `.quad` directives holding each encoding
 * (the ` <.text+0x..>` annotation after jump targets removed). Where plain
 * objdump says `<unknown>` (32-bit atomics other than `lock ... += r`) or
 * misdecodes (32-bit fetch-add printed as a plain lock add), the expectation is
 * the output of `llvm-objdump-19 -d --mcpu=v4`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "comb/asm.h"
#include "../test.h"

struct disasm_case {
	struct comb_insn insn;
	int32_t hi; /* second-slot imm for lddw */
	const char *text;
};

static const struct disasm_case llvm_cases[] = {
	{ { 0x07, 1, 0, 0, 5 }, 0, "r1 += 0x5" },
	{ { 0x07, 1, 0, 0, -3 }, 0, "r1 += -0x3" },
	{ { 0x0f, 1, 2, 0, 0 }, 0, "r1 += r2" },
	{ { 0x04, 1, 0, 0, 5 }, 0, "w1 += 0x5" },
	{ { 0x0c, 1, 2, 0, 0 }, 0, "w1 += w2" },
	{ { 0x17, 3, 0, 0, 16 }, 0, "r3 -= 0x10" },
	{ { 0x1f, 3, 4, 0, 0 }, 0, "r3 -= r4" },
	{ { 0x14, 3, 0, 0, -1 }, 0, "w3 -= -0x1" },
	{ { 0x1c, 3, 4, 0, 0 }, 0, "w3 -= w4" },
	{ { 0x27, 0, 0, 0, 7 }, 0, "r0 *= 0x7" },
	{ { 0x2f, 0, 1, 0, 0 }, 0, "r0 *= r1" },
	{ { 0x24, 0, 0, 0, 7 }, 0, "w0 *= 0x7" },
	{ { 0x2c, 0, 1, 0, 0 }, 0, "w0 *= w1" },
	{ { 0x37, 0, 0, 0, 2 }, 0, "r0 /= 0x2" },
	{ { 0x3f, 0, 1, 0, 0 }, 0, "r0 /= r1" },
	{ { 0x3f, 0, 1, 1, 0 }, 0, "r0 s/= r1" },
	{ { 0x37, 0, 0, 1, -2 }, 0, "r0 s/= -0x2" },
	{ { 0x34, 0, 0, 0, 2 }, 0, "w0 /= 0x2" },
	{ { 0x3c, 0, 1, 1, 0 }, 0, "w0 s/= w1" },
	{ { 0x34, 0, 0, 1, 3 }, 0, "w0 s/= 0x3" },
	{ { 0x47, 5, 0, 0, 255 }, 0, "r5 |= 0xff" },
	{ { 0x4f, 5, 6, 0, 0 }, 0, "r5 |= r6" },
	{ { 0x44, 5, 0, 0, 255 }, 0, "w5 |= 0xff" },
	{ { 0x4c, 5, 6, 0, 0 }, 0, "w5 |= w6" },
	{ { 0x57, 5, 0, 0, 255 }, 0, "r5 &= 0xff" },
	{ { 0x5f, 5, 6, 0, 0 }, 0, "r5 &= r6" },
	{ { 0x54, 5, 0, 0, 255 }, 0, "w5 &= 0xff" },
	{ { 0x5c, 5, 6, 0, 0 }, 0, "w5 &= w6" },
	{ { 0x67, 5, 0, 0, 3 }, 0, "r5 <<= 0x3" },
	{ { 0x6f, 5, 6, 0, 0 }, 0, "r5 <<= r6" },
	{ { 0x64, 5, 0, 0, 3 }, 0, "w5 <<= 0x3" },
	{ { 0x6c, 5, 6, 0, 0 }, 0, "w5 <<= w6" },
	{ { 0x77, 5, 0, 0, 3 }, 0, "r5 >>= 0x3" },
	{ { 0x7f, 5, 6, 0, 0 }, 0, "r5 >>= r6" },
	{ { 0x74, 5, 0, 0, 3 }, 0, "w5 >>= 0x3" },
	{ { 0x7c, 5, 6, 0, 0 }, 0, "w5 >>= w6" },
	{ { 0x87, 0, 0, 0, 0 }, 0, "r0 = -r0" },
	{ { 0x84, 9, 0, 0, 0 }, 0, "w9 = -w9" },
	{ { 0x97, 0, 0, 0, 10 }, 0, "r0 %= 0xa" },
	{ { 0x9f, 0, 1, 0, 0 }, 0, "r0 %= r1" },
	{ { 0x97, 0, 0, 1, 10 }, 0, "r0 s%= 0xa" },
	{ { 0x9f, 0, 1, 1, 0 }, 0, "r0 s%= r1" },
	{ { 0x94, 0, 0, 0, 10 }, 0, "w0 %= 0xa" },
	{ { 0x9c, 0, 1, 1, 0 }, 0, "w0 s%= w1" },
	{ { 0xa7, 7, 0, 0, 2147483647 }, 0, "r7 ^= 0x7fffffff" },
	{ { 0xaf, 7, 8, 0, 0 }, 0, "r7 ^= r8" },
	{ { 0xa4, 7, 0, 0, -2147483648 }, 0, "w7 ^= -0x80000000" },
	{ { 0xac, 7, 8, 0, 0 }, 0, "w7 ^= w8" },
	{ { 0xb7, 0, 0, 0, 1 }, 0, "r0 = 0x1" },
	{ { 0xb7, 1, 0, 0, -1 }, 0, "r1 = -0x1" },
	{ { 0xbf, 1, 2, 0, 0 }, 0, "r1 = r2" },
	{ { 0xb4, 0, 0, 0, 5 }, 0, "w0 = 0x5" },
	{ { 0xbc, 0, 1, 0, 0 }, 0, "w0 = w1" },
	{ { 0xbf, 1, 2, 8, 0 }, 0, "r1 = (s8)r2" },
	{ { 0xbf, 1, 2, 16, 0 }, 0, "r1 = (s16)r2" },
	{ { 0xbf, 1, 2, 32, 0 }, 0, "r1 = (s32)r2" },
	{ { 0xbc, 1, 2, 8, 0 }, 0, "w1 = (s8)w2" },
	{ { 0xbc, 1, 2, 16, 0 }, 0, "w1 = (s16)w2" },
	{ { 0xc7, 1, 0, 0, 63 }, 0, "r1 s>>= 0x3f" },
	{ { 0xcf, 1, 2, 0, 0 }, 0, "r1 s>>= r2" },
	{ { 0xc4, 1, 0, 0, 31 }, 0, "w1 s>>= 0x1f" },
	{ { 0xcc, 1, 2, 0, 0 }, 0, "w1 s>>= w2" },
	{ { 0xd4, 0, 0, 0, 16 }, 0, "r0 = le16 r0" },
	{ { 0xd4, 0, 0, 0, 32 }, 0, "r0 = le32 r0" },
	{ { 0xd4, 0, 0, 0, 64 }, 0, "r0 = le64 r0" },
	{ { 0xdc, 0, 0, 0, 16 }, 0, "r0 = be16 r0" },
	{ { 0xdc, 0, 0, 0, 32 }, 0, "r0 = be32 r0" },
	{ { 0xdc, 0, 0, 0, 64 }, 0, "r0 = be64 r0" },
	{ { 0xd7, 1, 0, 0, 16 }, 0, "r1 = bswap16 r1" },
	{ { 0xd7, 1, 0, 0, 32 }, 0, "r1 = bswap32 r1" },
	{ { 0xd7, 1, 0, 0, 64 }, 0, "r1 = bswap64 r1" },
	{ { 0x61, 0, 1, 4, 0 }, 0, "r0 = *(u32 *)(r1 + 0x4)" },
	{ { 0x69, 0, 1, -2, 0 }, 0, "r0 = *(u16 *)(r1 - 0x2)" },
	{ { 0x71, 0, 1, 0, 0 }, 0, "r0 = *(u8 *)(r1 + 0x0)" },
	{ { 0x79, 0, 10, -8, 0 }, 0, "r0 = *(u64 *)(r10 - 0x8)" },
	{ { 0x79, 0, 1, 32767, 0 }, 0, "r0 = *(u64 *)(r1 + 0x7fff)" },
	{ { 0x79, 0, 1, -32768, 0 }, 0, "r0 = *(u64 *)(r1 - 0x8000)" },
	{ { 0x81, 0, 1, 4, 0 }, 0, "r0 = *(s32 *)(r1 + 0x4)" },
	{ { 0x89, 0, 1, 2, 0 }, 0, "r0 = *(s16 *)(r1 + 0x2)" },
	{ { 0x91, 0, 10, -4, 0 }, 0, "r0 = *(s8 *)(r10 - 0x4)" },
	{ { 0x62, 10, 0, -8, 5 }, 0, "*(u32 *)(r10 - 0x8) = 0x5" },
	{ { 0x6a, 1, 0, 2, 17 }, 0, "*(u16 *)(r1 + 0x2) = 0x11" },
	{ { 0x72, 1, 0, 0, -1 }, 0, "*(u8 *)(r1 + 0x0) = -0x1" },
	{ { 0x7a, 10, 0, -16, 2147483647 }, 0, "*(u64 *)(r10 - 0x10) = 0x7fffffff" },
	{ { 0x63, 10, 1, -4, 0 }, 0, "*(u32 *)(r10 - 0x4) = r1" },
	{ { 0x6b, 10, 1, -2, 0 }, 0, "*(u16 *)(r10 - 0x2) = r1" },
	{ { 0x73, 10, 1, -1, 0 }, 0, "*(u8 *)(r10 - 0x1) = r1" },
	{ { 0x7b, 10, 1, -8, 0 }, 0, "*(u64 *)(r10 - 0x8) = r1" },
	{ { 0xc3, 10, 1, -4, 0 }, 0, "lock *(u32 *)(r10 - 0x4) += r1" },
	{ { 0xc3, 10, 1, -4, 64 }, 0, "lock *(u32 *)(r10 - 0x4) |= w1" },
	{ { 0xc3, 10, 1, -4, 80 }, 0, "lock *(u32 *)(r10 - 0x4) &= w1" },
	{ { 0xc3, 10, 1, -4, 160 }, 0, "lock *(u32 *)(r10 - 0x4) ^= w1" },
	{ { 0xc3, 10, 1, -4, 1 }, 0, "w1 = atomic_fetch_add((u32 *)(r10 - 0x4), w1)" },
	{ { 0xc3, 10, 1, -4, 65 }, 0, "w1 = atomic_fetch_or((u32 *)(r10 - 0x4), w1)" },
	{ { 0xc3, 10, 1, -4, 81 }, 0, "w1 = atomic_fetch_and((u32 *)(r10 - 0x4), w1)" },
	{ { 0xc3, 10, 1, -4, 161 }, 0, "w1 = atomic_fetch_xor((u32 *)(r10 - 0x4), w1)" },
	{ { 0xc3, 10, 1, -4, 225 }, 0, "w1 = xchg32_32(r10 - 0x4, w1)" },
	{ { 0xc3, 10, 1, -4, 241 }, 0, "w0 = cmpxchg32_32(r10 - 0x4, w0, w1)" },
	{ { 0xdb, 10, 1, -8, 0 }, 0, "lock *(u64 *)(r10 - 0x8) += r1" },
	{ { 0xdb, 10, 1, -8, 64 }, 0, "lock *(u64 *)(r10 - 0x8) |= r1" },
	{ { 0xdb, 10, 1, -8, 80 }, 0, "lock *(u64 *)(r10 - 0x8) &= r1" },
	{ { 0xdb, 10, 1, -8, 160 }, 0, "lock *(u64 *)(r10 - 0x8) ^= r1" },
	{ { 0xdb, 10, 0, -8, 1 }, 0, "r0 = atomic_fetch_add((u64 *)(r10 - 0x8), r0)" },
	{ { 0xdb, 10, 3, -8, 65 }, 0, "r3 = atomic_fetch_or((u64 *)(r10 - 0x8), r3)" },
	{ { 0xdb, 10, 3, -8, 81 }, 0, "r3 = atomic_fetch_and((u64 *)(r10 - 0x8), r3)" },
	{ { 0xdb, 10, 3, -8, 161 }, 0, "r3 = atomic_fetch_xor((u64 *)(r10 - 0x8), r3)" },
	{ { 0xdb, 10, 0, -8, 225 }, 0, "r0 = xchg_64(r10 - 0x8, r0)" },
	{ { 0xdb, 10, 1, -8, 241 }, 0, "r0 = cmpxchg_64(r10 - 0x8, r0, r1)" },
	{ { 0x05, 0, 0, 3, 0 }, 0, "goto +0x3" },
	{ { 0x05, 0, 0, -1, 0 }, 0, "goto -0x1" },
	{ { 0x05, 0, 0, 0, 0 }, 0, "goto +0x0" },
	{ { 0x06, 0, 0, 0, 5 }, 0, "gotol +0x5" },
	{ { 0x06, 0, 0, 0, -3 }, 0, "gotol -0x3" },
	{ { 0x15, 1, 0, 2, 3 }, 0, "if r1 == 0x3 goto +0x2" },
	{ { 0x1d, 1, 2, -2, 0 }, 0, "if r1 == r2 goto -0x2" },
	{ { 0x25, 1, 0, 1, 100 }, 0, "if r1 > 0x64 goto +0x1" },
	{ { 0x2d, 1, 2, 1, 0 }, 0, "if r1 > r2 goto +0x1" },
	{ { 0x35, 1, 0, 1, -1 }, 0, "if r1 >= -0x1 goto +0x1" },
	{ { 0x3d, 1, 2, 1, 0 }, 0, "if r1 >= r2 goto +0x1" },
	{ { 0x45, 1, 0, 1, 1 }, 0, "if r1 & 0x1 goto +0x1" },
	{ { 0x4d, 1, 2, 1, 0 }, 0, "if r1 & r2 goto +0x1" },
	{ { 0x55, 0, 0, 5, 0 }, 0, "if r0 != 0x0 goto +0x5" },
	{ { 0x5d, 0, 1, 5, 0 }, 0, "if r0 != r1 goto +0x5" },
	{ { 0x65, 1, 0, 1, 100 }, 0, "if r1 s> 0x64 goto +0x1" },
	{ { 0x6d, 1, 2, 1, 0 }, 0, "if r1 s> r2 goto +0x1" },
	{ { 0x75, 1, 0, 1, 0 }, 0, "if r1 s>= 0x0 goto +0x1" },
	{ { 0x7d, 1, 2, 1, 0 }, 0, "if r1 s>= r2 goto +0x1" },
	{ { 0xa5, 1, 0, 1, 9 }, 0, "if r1 < 0x9 goto +0x1" },
	{ { 0xad, 1, 2, 1, 0 }, 0, "if r1 < r2 goto +0x1" },
	{ { 0xb5, 1, 0, 1, 9 }, 0, "if r1 <= 0x9 goto +0x1" },
	{ { 0xbd, 1, 2, 1, 0 }, 0, "if r1 <= r2 goto +0x1" },
	{ { 0xc5, 1, 0, 1, 9 }, 0, "if r1 s< 0x9 goto +0x1" },
	{ { 0xcd, 1, 2, 1, 0 }, 0, "if r1 s< r2 goto +0x1" },
	{ { 0xd5, 1, 0, 1, 9 }, 0, "if r1 s<= 0x9 goto +0x1" },
	{ { 0xdd, 1, 2, 1, 0 }, 0, "if r1 s<= r2 goto +0x1" },
	{ { 0x16, 1, 0, 2, 3 }, 0, "if w1 == 0x3 goto +0x2" },
	{ { 0x1e, 1, 2, -3, 0 }, 0, "if w1 == w2 goto -0x3" },
	{ { 0x26, 1, 0, 1, -5 }, 0, "if w1 > -0x5 goto +0x1" },
	{ { 0x5e, 3, 4, 7, 0 }, 0, "if w3 != w4 goto +0x7" },
	{ { 0x66, 1, 0, 1, 100 }, 0, "if w1 s> 0x64 goto +0x1" },
	{ { 0xde, 1, 2, 1, 0 }, 0, "if w1 s<= w2 goto +0x1" },
	{ { 0x85, 0, 0, 0, 5 }, 0, "call 0x5" },
	{ { 0x85, 0, 1, 0, -1 }, 0, "call -0x1" },
	{ { 0x85, 0, 1, 0, 7 }, 0, "call 0x7" },
	{ { 0x85, 0, 2, 0, 1234 }, 0, "call 0x4d2" },
	{ { 0x8d, 2, 0, 0, 0 }, 0, "callx r2" },
	{ { 0x95, 0, 0, 0, 0 }, 0, "exit" },
	{ { 0x20, 0, 0, 0, 10 }, 0, "r0 = *(u32 *)skb[0xa]" },
	{ { 0x28, 0, 0, 0, 2147483647 }, 0, "r0 = *(u16 *)skb[0x7fffffff]" },
	{ { 0x30, 0, 0, 0, -1 }, 0, "r0 = *(u8 *)skb[-0x1]" },
	{ { 0x40, 0, 1, 0, 0 }, 0, "r0 = *(u32 *)skb[r1]" },
	{ { 0x48, 0, 2, 0, 0 }, 0, "r0 = *(u16 *)skb[r2]" },
	{ { 0x50, 0, 3, 0, 7 }, 0, "r0 = *(u8 *)skb[r3]" },
	{ { 0x18, 1, 0, 0, 1432778632 }, 287454020, "r1 = 0x1122334455667788 ll" },
	{ { 0x18, 0, 0, 0, -1 }, -1, "r0 = -0x1 ll" },
	{ { 0x18, 0, 0, 0, 1 }, 0, "r0 = 0x1 ll" },
	{ { 0x18, 2, 0, 0, 0 }, 1, "r2 = 0x100000000 ll" },
	{ { 0x18, 1, 1, 0, 3 }, 0, "ld_pseudo\tr1, 0x1, 0x3" },
	{ { 0x18, 1, 2, 0, 3 }, 8, "ld_pseudo\tr1, 0x2, 0x3" },
	{ { 0x18, 1, 3, 0, 100 }, 0, "ld_pseudo\tr1, 0x3, 0x64" },
	{ { 0x18, 1, 4, 0, 5 }, 0, "ld_pseudo\tr1, 0x4, 0x5" },
	{ { 0x18, 1, 5, 0, 0 }, 0, "ld_pseudo\tr1, 0x5, 0x0" },
	{ { 0x18, 1, 6, 0, 2 }, -4, "ld_pseudo\tr1, 0x6, 0x2" },
};

static int disasm_one(const struct disasm_case *c, enum comb_syntax syntax, char *buf, size_t len)
{
	struct comb_insn prog[2] = { c->insn, { 0 } };
	prog[1].imm = c->hi;
	return comb_disasm_insn(prog, 2, 0, syntax, buf, len);
}

TEST(disasm_llvm_matches_objdump)
{
	char buf[128];
	for (size_t i = 0; i < sizeof(llvm_cases) / sizeof(llvm_cases[0]); i++) {
		const struct disasm_case *c = &llvm_cases[i];
		int n = disasm_one(c, COMB_SYNTAX_LLVM, buf, sizeof(buf));
		CHECK_EQ(n, comb_insn_is_lddw(&c->insn) ? 2 : 1);
		CHECK_STR(buf, c->text);
	}
}

TEST(disasm_conformance_syntax)
{
	static const struct disasm_case cases[] = {
		{ { 0xb4, 0, 0, 0, 1 }, 0, "mov32 %r0, 1" },
		{ { 0xb7, 1, 0, 0, -1 }, 0, "mov %r1, -1" },
		{ { 0x71, 0, 1, 2, 0 }, 0, "ldxb %r0, [%r1+2]" },
		{ { 0x79, 0, 1, 0, 0 }, 0, "ldxdw %r0, [%r1+0]" },
		{ { 0x91, 0, 10, -1, 0 }, 0, "ldxsb %r0, [%r10-1]" },
		{ { 0x63, 10, 1, -4, 0 }, 0, "stxw [%r10-4], %r1" },
		{ { 0x62, 1, 0, 2, 0x11 }, 0, "stw [%r1+2], 17" },
		{ { 0x15, 1, 0, 2, 3 }, 0, "jeq %r1, 3, +2" },
		{ { 0x5e, 1, 2, -3, 0 }, 0, "jne32 %r1, %r2, -3" },
		{ { 0x05, 0, 0, 1, 0 }, 0, "ja +1" },
		{ { 0x06, 0, 0, 0, -2 }, 0, "ja32 -2" },
		{ { 0x85, 0, 0, 0, 5 }, 0, "call 5" },
		{ { 0x85, 0, 1, 0, 3 }, 0, "call local +3" },
		{ { 0x85, 0, 2, 0, 1234 }, 0, "call kfunc 1234" },
		{ { 0x8d, 2, 0, 0, 0 }, 0, "call %r2" },
		{ { 0x95, 0, 0, 0, 0 }, 0, "exit" },
		{ { 0xdb, 10, 1, -8, 0x00 }, 0, "lock add [%r10-8], %r1" },
		{ { 0xc3, 10, 1, -4, 0x01 }, 0, "lock fetch add32 [%r10-4], %r1" },
		{ { 0xdb, 10, 1, -8, 0xe1 }, 0, "lock xchg [%r10-8], %r1" },
		{ { 0xc3, 10, 1, -8, 0xf1 }, 0, "lock cmpxchg32 [%r10-8], %r1" },
		{ { 0x87, 2, 0, 0, 0 }, 0, "neg %r2" },
		{ { 0x84, 2, 0, 0, 0 }, 0, "neg32 %r2" },
		{ { 0xdc, 0, 0, 0, 16 }, 0, "be16 %r0" },
		{ { 0xd4, 0, 0, 0, 64 }, 0, "le64 %r0" },
		{ { 0xd7, 0, 0, 0, 32 }, 0, "bswap32 %r0" },
		{ { 0xbc, 0, 1, 8, 0 }, 0, "movsx832 %r0, %r1" },
		{ { 0xbf, 0, 1, 32, 0 }, 0, "movsx3264 %r0, %r1" },
		{ { 0x3f, 0, 1, 1, 0 }, 0, "sdiv %r0, %r1" },
		{ { 0x94, 0, 0, 1, 7 }, 0, "smod32 %r0, 7" },
		{ { 0x20, 0, 0, 0, 12 }, 0, "ldabsw 12" },
		{ { 0x48, 0, 3, 0, -2 }, 0, "ldindh %r3, -2" },
		{ { 0x18, 1, 0, 0, 0x55667788 }, 0x11223344, "lddw %r1, 0x1122334455667788" },
		{ { 0x18, 1, 1, 0, 3 }, 0, "lddw %r1, map_fd 3" },
		{ { 0x18, 1, 2, 0, 3 }, 8, "lddw %r1, map_value 3+8" },
		{ { 0x18, 1, 6, 0, 2 }, -4, "lddw %r1, map_idx_value 2-4" },
		{ { 0x18, 1, 4, 0, -7 }, 0, "lddw %r1, code -7" },
	};
	char buf[128];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(disasm_one(&cases[i], COMB_SYNTAX_CONFORMANCE, buf, sizeof(buf)) > 0);
		CHECK_STR(buf, cases[i].text);
	}
}

TEST(disasm_rejects_invalid_encodings)
{
	static const struct comb_insn bad[] = {
		{ 0xff, 0, 0, 0, 0 },  /* unknown opcode */
		{ 0x8f, 0, 0, 0, 0 },  /* neg with X source */
		{ 0xdf, 0, 0, 0, 16 }, /* ALU64 END with X source */
		{ 0xd4, 0, 0, 0, 8 },  /* byte swap width 8 */
		{ 0x07, 11, 0, 0, 0 }, /* r11 */
		{ 0x0f, 1, 12, 0, 0 }, /* src r12 */
		{ 0x07, 1, 1, 0, 0 },  /* K form with a src register */
		{ 0x0f, 1, 2, 0, 5 },  /* X form with an immediate */
		{ 0xbc, 1, 2, 32, 0 }, /* movsx 32->32 */
		{ 0xb7, 1, 0, 8, 0 },  /* mov imm with offset */
		{ 0x37, 1, 0, 2, 0 },  /* div offset 2 */
		{ 0x95, 0, 0, 0, 1 },  /* exit with imm */
		{ 0x96, 0, 0, 0, 0 },  /* exit in JMP32 */
		{ 0x86, 0, 0, 0, 0 },  /* call in JMP32 */
		{ 0x85, 0, 3, 0, 0 },  /* call kind 3 */
		{ 0x05, 0, 0, 1, 1 },  /* ja with imm */
		{ 0x06, 0, 0, 1, 1 },  /* ja32 with off */
		{ 0x38, 0, 0, 0, 0 },  /* ld abs dw */
		{ 0x99, 0, 1, 0, 0 },  /* ldxsdw */
		{ 0xc2, 1, 0, 0, 0 },  /* atomic in ST class */
		{ 0xd3, 1, 2, 0, 0 },  /* atomic byte */
		{ 0xdb, 1, 2, 0, 0x02 }, /* unknown atomic op */
		{ 0x61, 1, 2, 0, 1 },  /* ldx with imm */
		{ 0xe5, 1, 0, 0, 0 },  /* jump op 0xe0 */
	};
	char buf[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (int syntax = 0; syntax < 2; syntax++) {
			int rc = comb_disasm_insn(&bad[i], 1, 0, (enum comb_syntax)syntax, buf, sizeof(buf));
			if (rc != -EINVAL)
				fprintf(stderr, "  accepted case %zu: %s\n", i, buf);
			CHECK_EQ(rc, -EINVAL);
			CHECK(strncmp(buf, "invalid ", 8) == 0);
		}
	}
	CHECK_EQ(comb_disasm_insn(bad, 1, 0, COMB_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_STR(buf, "invalid opcode 0xff");
}

TEST(disasm_truncated_lddw_and_bad_index)
{
	struct comb_insn prog[2] = { { 0x95, 0, 0, 0, 0 }, { 0x18, 1, 0, 0, 1 } };
	char buf[64];
	CHECK_EQ(comb_disasm_insn(prog, 2, 1, COMB_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK(strstr(buf, "truncated lddw") != NULL);
	CHECK_EQ(comb_disasm_insn(prog, 2, 2, COMB_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	CHECK_EQ(comb_disasm_insn(NULL, 0, 0, COMB_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
	/* second slot of lddw must be clean */
	struct comb_insn bad_hi[2] = { { 0x18, 1, 0, 0, 1 }, { 0x18, 0, 0, 0, 0 } };
	CHECK_EQ(comb_disasm_insn(bad_hi, 2, 0, COMB_SYNTAX_LLVM, buf, sizeof(buf)), -EINVAL);
}

TEST(disasm_never_overruns_buffer)
{
	struct comb_insn prog[2] = { { 0x18, 1, 0, 0, 0x55667788 }, { 0, 0, 0, 0, 0x11223344 } };
	char buf[8];
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(comb_disasm_insn(prog, 2, 0, COMB_SYNTAX_LLVM, buf, 5), 2);
	CHECK_STR(buf, "r1 =");
	CHECK_EQ(buf[5], 'x');
	CHECK_EQ(comb_disasm_insn(prog, 2, 0, COMB_SYNTAX_LLVM, buf, 1), 2);
	CHECK_STR(buf, "");
	CHECK_EQ(comb_disasm_insn(prog, 2, 0, COMB_SYNTAX_LLVM, NULL, 0), 2);
}
