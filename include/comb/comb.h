/* comb/comb.h - eBPF in user space: the whole public API. */
#ifndef COMB_H
#define COMB_H
#include "isa.h"
#include "asm.h"
#include "vm.h"
#include "map.h"
#include "ringbuf.h"
#include "object.h"
#include "testrun.h"
#include "xdp.h"
#include "xdp_live.h"
#include "verifier.h"
#define COMB_VERSION "0.1.0"
#endif
