// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the operator config parser in helper/policy.c. The
 * parser must take the whole text or nothing: on refusal no operator group
 * may be left configured, and an accepted group is never the root group.
 */
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *group;
	struct group *gr;
	char *text;
	int ret;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* Start from "no operator" so that a refusal can be checked. */
	policy_parse_config("fuzz", (char[]){ "" });
	CHECK(policy_operator_group() == NULL);
	ret = policy_parse_config("fuzz", text);
	group = policy_operator_group();
	if (ret)
		CHECK(group == NULL);
	if (group) {
		CHECK(*group && strlen(group) < 64);
		gr = getgrnam(group);
		CHECK(strcmp(group, "root") && strcmp(group, "0") && (!gr || gr->gr_gid != 0));
	}
	free(text);
	return 0;
}
