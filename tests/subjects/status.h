/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The status file every subject keeps mapped shared (docs/protocol.md).
 * Same layout for i386, x32 and x86_64: explicit widths, 8-byte aligned.
 */
#ifndef STATUS_H
#define STATUS_H

#include <stdint.h>

#define STATUS_SIZE 256
#define STATUS_VERSION 1

enum { MODE_I386 = 0, MODE_X86_64 = 1, MODE_X32 = 2 };

struct subject_status {
	char magic[8];
	uint32_t version;
	uint32_t pid;
	uint64_t heartbeat;
	uint64_t calls;
	uint64_t errors;
	uint64_t vdso_base;
	uint64_t self_moves;
	uint32_t mode;
	uint32_t threads;
	uint64_t blocker_done;
	uint64_t signals;
	uint64_t ready;
	char last_error[128];
	uint64_t aux;
	char pad[STATUS_SIZE - 224];
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct subject_status) == STATUS_SIZE, "status size");
_Static_assert(__builtin_offsetof(struct subject_status, heartbeat) == 16, "hb");
_Static_assert(__builtin_offsetof(struct subject_status, mode) == 56, "mode");
_Static_assert(__builtin_offsetof(struct subject_status, last_error) == 88, "le");
_Static_assert(__builtin_offsetof(struct subject_status, aux) == 216, "aux");

#if defined(__x86_64__) && defined(__ILP32__)
#define SUBJECT_MODE MODE_X32
#elif defined(__x86_64__)
#define SUBJECT_MODE MODE_X86_64
#else
#define SUBJECT_MODE MODE_I386
#endif

/* Counters are read by another process at any time: store atomically. */
#define ST_SET(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)
#define ST_ADD(field, v) __atomic_fetch_add(&(field), (v), __ATOMIC_RELAXED)

#endif
