/* Invariants shared by the ipvsadm and ldirectord fuzz targets (fuzz_ipvsadm.c, fuzz_ldirectord.c). */
#ifndef FUZZ_LVS_COMMON_H
#define FUZZ_LVS_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_progress.h"
#include "lvs_import.h"

#define FUZZ_CHECK(cond)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* The fwmarks every run knows: 1-3 (what an export numbers groups), 7 and 8. */
static json_t *fuzz_fwmarks(void)
{
	json_t *m = json_object();
	char err[256];
	const char *const maps[] = {"1=10.0.0.50:80,443", "2=10.0.0.51:53/udp",
				    "3=[2001:db8::50]:1-1024/tcp+udp", "7=10.0.0.52:8080",
				    "8=10.0.0.53:21,20,30000-30100"};
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		FUZZ_CHECK(lb_fwmark_parse(maps[i], m, err, sizeof(err)) == 0);
	return m;
}

/* Every message names a line of the input, and the result is complete and consistent. */
static void fuzz_check_import(int rc, const struct lb_import *imp, const uint8_t *data, size_t size)
{
	size_t lines = 1, i;
	json_t *e, *s;

	for (size_t k = 0; k < size; k++)
		lines += data[k] == '\n';
	FUZZ_CHECK(rc == (json_array_size(imp->errors) == 0 ? 0 : -1));
	FUZZ_CHECK(json_array_size(imp->services) == json_array_size(imp->lines));
	json_array_foreach(imp->errors, i, e) {
		json_int_t l = json_integer_value(json_object_get(e, "line"));
		FUZZ_CHECK(l >= 1 && (size_t)l <= lines);
		FUZZ_CHECK(json_string_length(json_object_get(e, "message")) > 0);
	}
	json_array_foreach(imp->notes, i, e) {
		json_int_t l = json_integer_value(json_object_get(e, "line"));
		FUZZ_CHECK(l >= 1 && (size_t)l <= lines);
	}
	json_array_foreach(imp->services, i, s) {
		FUZZ_CHECK(json_is_string(json_object_get(s, "vip")));
		FUZZ_CHECK(json_is_string(json_object_get(s, "proto")));
		json_int_t port = json_integer_value(json_object_get(s, "port"));
		FUZZ_CHECK(port >= 0 && port <= 65535);
		FUZZ_CHECK(json_is_array(json_object_get(s, "reals")));
		FUZZ_CHECK(json_array_size(json_object_get(s, "reals")) ==
			   json_array_size(json_object_get(json_array_get(imp->lines, i), "reals")));
	}
	if (json_array_size(imp->services) > 0)
		fuzz_progress_reached();
}

#endif
