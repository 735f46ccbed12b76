/*
 * Fuzz target for lib/lvs_ipvsadm.c: the input is an ipvsadm -S file. Every parse either lists
 * its bad lines (each a line of the input) or yields services; an accepted file is exported
 * again and the export itself imports without an error and to as many services.
 */
#include "fuzz_lvs_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lb_import imp, again;
	json_t *marks = fuzz_fwmarks(), *notes = json_array();

	int rc = lb_import_ipvsadm((const char *)data, size, marks, &imp);
	fuzz_check_import(rc, &imp, data, size);
	/* Groups are renumbered 1.. by the export; the fixed fwmarks cover the first three. */
	size_t groups = 0, i;
	json_t *s;
	json_array_foreach(imp.services, i, s)
		groups += json_integer_value(json_object_get(s, "port")) == 0;
	if (rc == 0 && groups <= 3) {
		char *text = lb_export_ipvsadm(imp.services, notes);
		FUZZ_CHECK(text != NULL);
		int rc2 = lb_import_ipvsadm(text, strlen(text), marks, &again);
		if (rc2 != 0)
			fprintf(stderr, "export did not import: %s\n%s\n",
				json_string_value(json_object_get(json_array_get(again.errors, 0),
								  "message")), text);
		FUZZ_CHECK(rc2 == 0);
		FUZZ_CHECK(json_array_size(again.services) == json_array_size(imp.services));
		lb_import_free(&again);
		free(text);
	}
	lb_import_free(&imp);
	json_decref(notes);
	json_decref(marks);
	return 0;
}
