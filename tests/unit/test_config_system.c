/* Unit tests for lib/config_system.c: the system section of dpdk-lb-setup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_config_util.h"

/* The system section (dpdk-lb-setup's): every bad value is refused by its key path. */
static void test_system_section_errors(void **state)
{
	(void)state;
	expect_error("{\"system\": {\"hugepages\": -1}}", "system.hugepages");
	expect_error("{\"system\": {\"hugepages\": 2000000}}", "system.hugepages");
	expect_error("{\"system\": {\"hugepage_size\": \"4M\"}}", "system.hugepage_size");
	expect_error("{\"system\": {\"hugetlbfs\": \"relative/path\"}}", "system.hugetlbfs");
	expect_error("{\"system\": {\"nics\": [{\"pci\": \"03:00.0\"}]}}", "system.nics[0].pci");
	expect_error("{\"system\": {\"nics\": [{\"pci\": \"0000:03:20.0\"}]}}", "system.nics[0].pci");
	expect_error("{\"system\": {\"nics\": [{\"pci\": \"0000:03:00.0\", \"driver\": \"igb\"}]}}",
		     "system.nics[0].driver");
	expect_error("{\"system\": {\"nics\": [{\"pci\": \"0000:03:00.0\"}, {\"pci\": \"0000:03:00.0\"}]}}",
		     "listed twice");
	expect_error("{\"system\": {\"nic\": []}}", "system.nic");
	expect_error("{\"system\": 5}", "system: must be an object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_section_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
