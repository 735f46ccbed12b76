/*
 * Fuzz target for lib/lvs_ldirectord.c: the input is an ldirectord.cf. Every parse either lists
 * its bad lines (each a line of the input) or yields services; the exporter writes whatever was
 * accepted without failing.
 */
#include "fuzz_lvs_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_import imp;
	json_t *marks = fuzz_fwmarks(), *notes = json_array();

	int rc = lb_import_ldirectord((const char *)data, size, marks, &imp);
	fuzz_check_import(rc, &imp, data, size);
	if (rc == 0) {
		char *text = lb_export_ldirectord(imp.services, notes);
		FUZZ_CHECK(text != NULL);
		free(text);
	}
	lb_import_free(&imp);
	json_decref(notes);
	json_decref(marks);
	return 0;
}
