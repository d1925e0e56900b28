/* src/helpers/task_helpers.c - who is running: pid/tgid, uid/gid, comm,
 * NUMA node, jiffies.
 *
 * The "current task" is the calling thread, as in the kernel:
 * get_current_pid_tgid is tgid << 32 | tid, get_current_uid_gid
 * gid << 32 | uid, get_current_comm the thread's name (PR_GET_NAME), copied
 * as the kernel's strscpy_pad does (at most size - 1 bytes, NUL, zero pad).
 * get_numa_node_id asks getcpu(). jiffies64 follows the kernel's counter:
 * INITIAL_JIFFIES plus CLOCK_MONOTONIC in ticks of CONFIG_HZ (read from
 * /boot/config-$(uname -r) once, 250 when unknown).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "helpers/helpers.h"

#define DEFAULT_HZ 250u

static uint64_t helper_get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					    uint64_t r5, struct comb_call_ctx *cc)
{
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

static uint64_t helper_get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					   uint64_t r5, struct comb_call_ctx *cc)
{
	return (uint64_t)(uint32_t)getgid() << 32 | (uint32_t)getuid();
}

static uint64_t helper_get_current_comm(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					struct comb_call_ctx *cc)
{
	char *buf = (char *)(uintptr_t)r1;
	uint64_t size = r2;
	if (size == 0 || comb_call_check_mem(cc, buf, size, true))
		return (uint64_t)-EINVAL;
	char comm[17] = "";
	if (prctl(PR_GET_NAME, comm) != 0) {
		memset(buf, 0, size);
		return (uint64_t)-EINVAL;
	}
	size_t len = strnlen(comm, 16);
	if (len > size - 1)
		len = size - 1;
	memcpy(buf, comm, len);
	memset(buf + len, 0, size - len);
	return 0;
}

static uint64_t helper_get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
					struct comb_call_ctx *cc)
{
	unsigned cpu = 0, node = 0;
	if (getcpu(&cpu, &node) != 0)
		return 0;
	return node;
}

static uint32_t config_hz_value = DEFAULT_HZ;
static pthread_once_t config_hz_once = PTHREAD_ONCE_INIT;

static void read_config_hz(void)
{
	struct utsname un;
	char path[128 + sizeof(un.release)], line[128];
	if (uname(&un) != 0)
		return;
	snprintf(path, sizeof(path), "/boot/config-%s", un.release);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned hz;
		if (sscanf(line, "CONFIG_HZ=%u", &hz) == 1 && hz > 0) {
			config_hz_value = hz;
			break;
		}
	}
	fclose(f);
}

static uint64_t helper_jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
				 struct comb_call_ctx *cc)
{
	pthread_once(&config_hz_once, read_config_hz);
	uint64_t hz = config_hz_value;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	uint64_t initial = (uint64_t)(uint32_t)(-(int32_t)(300 * hz)); /* the kernel's INITIAL_JIFFIES */
	return initial + (uint64_t)ts.tv_sec * hz + (uint64_t)ts.tv_nsec * hz / 1000000000ull;
}

int comb_register_task_helpers(struct comb_vm *vm)
{
	static const struct {
		uint32_t id;
		const char *name;
		comb_helper_fn fn;
	} table[] = {
		{ HELPER_GET_CURRENT_PID_TGID, "get_current_pid_tgid", helper_get_current_pid_tgid },
		{ HELPER_GET_CURRENT_UID_GID, "get_current_uid_gid", helper_get_current_uid_gid },
		{ HELPER_GET_CURRENT_COMM, "get_current_comm", helper_get_current_comm },
		{ HELPER_GET_NUMA_NODE_ID, "get_numa_node_id", helper_get_numa_node_id },
		{ HELPER_JIFFIES64, "jiffies64", helper_jiffies64 },
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int rc = comb_vm_register_helper(vm, table[i].id, table[i].name, table[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}
