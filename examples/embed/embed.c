/* examples/embed/embed.c - libcomb as an extension VM inside an application.
 *
 * The application registers one helper of its own (id 1000, a price list),
 * assembles a small eBPF program that totals an order through that helper,
 * and runs it over the order's memory in the fast interpreter. The same
 * program in the checked engine may only touch the memory the application
 * registers as a region.
 */
#include <stdio.h>
#include <stdlib.h>
#include "comb/comb.h"

#define HELPER_PRICE 1000

/* r1 = item number; returns its price in cents (0 for an unknown item). */
static uint64_t helper_price(uint64_t item, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct comb_call_ctx *cc)
{
	const uint32_t *prices = cc->vm_user;
	return item < 4 ? prices[item] : 0;
}

/* An order is a list of (item, quantity) byte pairs: r1 points to it, r2
 * holds its length. The program returns the total in cents. */
static const char order_total_asm[] =
	"        mov %r6, %r1          # r6: cursor (callee-saved across calls)\n"
	"        mov %r7, %r1\n"
	"        add %r7, %r2          # r7: end of the order\n"
	"        mov %r8, 0            # r8: total\n"
	"next:\n"
	"        jge %r6, %r7, done\n"
	"        ldxb %r1, [%r6]       # item\n"
	"        call 1000             # r0 = price(item)\n"
	"        ldxb %r2, [%r6+1]     # quantity\n"
	"        mul %r0, %r2\n"
	"        add %r8, %r0\n"
	"        add %r6, 2\n"
	"        ja next\n"
	"done:\n"
	"        mov %r0, %r8\n"
	"        exit\n";

int main(void)
{
	static const uint32_t prices[4] = { 250, 1999, 75, 1200 };
	uint8_t order[] = { 0, 2, 1, 1, 3, 3 }; /* 2 x item 0, 1 x item 1, 3 x item 3 */
	struct comb_vm_opts vm_opts = { .sz = sizeof(vm_opts), .user = (void *)prices };
	struct comb_vm *vm;
	struct comb_prog *prog;
	struct comb_insn *insns;
	size_t count;
	struct comb_asm_error asm_err;
	char err[256];
	uint64_t total;

	if (comb_vm_new(&vm_opts, &vm) || comb_vm_register_helper(vm, HELPER_PRICE, "price", helper_price))
		return 1;
	if (comb_asm(order_total_asm, &insns, &count, &asm_err)) {
		fprintf(stderr, "embed: line %d, column %d: %s\n", asm_err.line, asm_err.column, asm_err.message);
		return 1;
	}
	if (comb_prog_load(vm, insns, count, NULL, &prog, err, sizeof(err))) {
		fprintf(stderr, "embed: %s\n", err);
		return 1;
	}
	free(insns);

	struct comb_region order_region = { (uint64_t)(uintptr_t)order, sizeof(order), false };
	struct comb_run_error run_err;
	struct comb_run_opts run = {
		.sz = sizeof(run),
		.engine = COMB_ENGINE_CHECKED,
		.args = { (uint64_t)(uintptr_t)order, sizeof(order) },
		.regions = &order_region,
		.region_count = 1,
		.error = &run_err,
	};
	if (comb_prog_run(prog, &run, &total)) {
		fprintf(stderr, "embed: insn %ld: %s\n", run_err.insn, run_err.message);
		return 1;
	}
	printf("order total: %llu.%02llu (2 x 2.50 + 1 x 19.99 + 3 x 12.00)\n",
	       (unsigned long long)total / 100, (unsigned long long)total % 100);
	comb_prog_free(prog);
	comb_vm_free(vm);
	return total == 2*250 + 1999 + 3*1200 ? 0 : 1;
}
