/* The configuration's `system` section: hugepages and NIC binding for dpdk-lb-setup. */
#include <stdio.h>
#include <string.h>

#include "config.h"

/* "DDDD:BB:DD.F", hexadecimal, as lspci -D and sysfs name a PCI function. */
static bool pci_addr_valid(const char *s)
{
	unsigned int dom, bus, dev, fn;
	int end = 0;

	return strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &end) == 4 &&
	       end == 12 && dev < 32 && fn < 8;
}

/* Parses nics[i] into s->nics[i]; a PCI address listed before it is refused. */
static int parse_nic(const json_t *o, size_t i, struct lb_system_cfg *s, char *err, size_t errlen)
{
	struct lb_system_nic *nic = &s->nics[i];
	static const char *const keys[] = {"pci", "driver", NULL};
	char path[48];
	json_t *pci = json_object_get(o, "pci"), *drv = json_object_get(o, "driver");

	snprintf(path, sizeof(path), "system.nics[%zu]", i);
	if (!json_is_object(o))
		return lb_err(err, errlen, "%s: must be {\"pci\", \"driver\"}", path);
	if (lb_json_check_keys(o, path, keys, err, errlen) != 0)
		return -1;
	if (!json_is_string(pci) || !pci_addr_valid(json_string_value(pci)))
		return lb_err(err, errlen, "%s.pci: must be a PCI address like \"0000:03:00.0\"", path);
	snprintf(nic->pci, sizeof(nic->pci), "%s", json_string_value(pci));
	snprintf(nic->driver, sizeof(nic->driver), "vfio-pci");
	if (drv != NULL) {
		if (!json_is_string(drv) || (strcmp(json_string_value(drv), "vfio-pci") != 0 &&
					     strcmp(json_string_value(drv), "uio_pci_generic") != 0))
			return lb_err(err, errlen, "%s.driver: must be \"vfio-pci\" or \"uio_pci_generic\"",
				      path);
		snprintf(nic->driver, sizeof(nic->driver), "%s", json_string_value(drv));
	}
	for (size_t k = 0; k < i; k++)
		if (strcmp(s->nics[k].pci, nic->pci) == 0)
			return lb_err(err, errlen, "%s.pci: %s is listed twice", path, nic->pci);
	return 0;
}

int lb_config_system_from_json(const json_t *v, struct lb_config *c, char *err, size_t errlen)
{
	static const char *const keys[] = {"hugepages", "hugepage_size", "hugetlbfs", "nics", NULL};
	struct lb_system_cfg *s = &c->system;
	json_t *size = json_object_get(v, "hugepage_size"), *mnt = json_object_get(v, "hugetlbfs");
	json_t *nics = json_object_get(v, "nics"), *o;
	size_t i;

	if (!json_is_object(v))
		return lb_err(err, errlen, "system: must be an object");
	if (lb_json_check_keys(v, "system", keys, err, errlen) != 0 ||
	    lb_json_get_uint(v, "hugepages", "system", 0, 1048576, &s->hugepages, err, errlen) != 0)
		return -1;
	if (size != NULL) {
		const char *t = json_is_string(size) ? json_string_value(size) : "";
		if (strcmp(t, "2M") == 0)
			s->hugepage_kb = 2048;
		else if (strcmp(t, "1G") == 0)
			s->hugepage_kb = 1048576;
		else
			return lb_err(err, errlen, "system.hugepage_size: must be \"2M\" or \"1G\"");
	}
	if (mnt != NULL) {
		if (!json_is_string(mnt) || json_string_value(mnt)[0] != '/' ||
		    json_string_length(mnt) >= sizeof(s->hugetlbfs))
			return lb_err(err, errlen, "system.hugetlbfs: must be an absolute path of at most "
				      "%zu bytes", sizeof(s->hugetlbfs) - 1);
		snprintf(s->hugetlbfs, sizeof(s->hugetlbfs), "%s", json_string_value(mnt));
	}
	if (nics == NULL)
		return 0;
	if (!json_is_array(nics) || json_array_size(nics) > LB_SYSTEM_MAX_NICS)
		return lb_err(err, errlen, "system.nics: must be an array of at most %d NICs",
			      LB_SYSTEM_MAX_NICS);
	s->n_nics = 0;
	json_array_foreach(nics, i, o) {
		if (parse_nic(o, i, s, err, errlen) != 0)
			return -1;
		s->n_nics++;
	}
	return 0;
}

json_t *lb_config_system_to_json(const struct lb_config *c)
{
	const struct lb_system_cfg *s = &c->system;
	json_t *nics = json_array();

	for (uint32_t i = 0; i < s->n_nics; i++)
		json_array_append_new(nics, json_pack("{s:s, s:s}", "pci", s->nics[i].pci, "driver",
						      s->nics[i].driver));
	return json_pack("{s:I, s:s, s:s, s:o}", "hugepages", (json_int_t)s->hugepages,
			 "hugepage_size", s->hugepage_kb == 1048576 ? "1G" : "2M", "hugetlbfs",
			 s->hugetlbfs, "nics", nics);
}
