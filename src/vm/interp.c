/* src/vm/interp.c - the two interpreter engines, from one template.
 *
 * See interp_loop.h for the design. The unaligned types let a program load
 * and store at any address, as eBPF allows, without undefined behaviour.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include "vm/internal.h"
#include "comb/map.h"
#include "verifier/helper_protos.h"

typedef uint16_t comb_u16_unaligned __attribute__((aligned(1), may_alias));
typedef uint32_t comb_u32_unaligned __attribute__((aligned(1), may_alias));
typedef uint64_t comb_u64_unaligned __attribute__((aligned(1), may_alias));
typedef int16_t comb_s16_unaligned __attribute__((aligned(1), may_alias));
typedef int32_t comb_s32_unaligned __attribute__((aligned(1), may_alias));

struct call_frame;

#define ENGINE_FN comb_engine_interp
#define ENGINE_SLOT ENGINE_SLOT_INTERP
#define CHECKED 0
#include "vm/interp_loop.h"
#undef ENGINE_FN
#undef ENGINE_SLOT
#undef CHECKED

#define call_frame checked_call_frame
#define ENGINE_FN comb_engine_checked
#define ENGINE_SLOT ENGINE_SLOT_CHECKED
#define CHECKED 1
#include "vm/interp_loop.h"
