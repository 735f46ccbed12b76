/* NICs: bind each configured PCI function to its DPDK driver with dpdk-devbind.py. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

/* The name of the driver pci is bound to now, "" when none; false when the device is missing. */
static bool current_driver(const struct setup_opts *o, const char *pci, char *out, size_t outlen)
{
	char dev[512], link[528], target[512];
	ssize_t n;

	snprintf(dev, sizeof(dev), "%s/sys/bus/pci/devices/%s", o->root, pci);
	if (access(dev, F_OK) != 0)
		return false;
	snprintf(link, sizeof(link), "%s/driver", dev);
	n = readlink(link, target, sizeof(target) - 1);
	out[0] = '\0';
	if (n > 0) {
		target[n] = '\0';
		snprintf(out, outlen, "%s", basename(target));
	}
	return true;
}

/* Whether the kernel has IOMMU groups (vfio-pci works only then). */
static bool iommu_on(const struct setup_opts *o)
{
	char path[512];
	struct dirent *e;
	bool any = false;

	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups", o->root);
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	while (!any && (e = readdir(d)) != NULL)
		any = e->d_name[0] != '.';
	closedir(d);
	return any;
}

/* Runs devbind --bind=driver pci (no shell); its exit status, or -1 when it could not run. */
static int run_devbind(const struct setup_opts *o, const struct lb_system_nic *nic)
{
	char bind[64];
	int status;

	snprintf(bind, sizeof(bind), "--bind=%s", nic->driver);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char *const argv[] = {(char *)o->devbind, bind, (char *)nic->pci, NULL};
		execvp(o->devbind, argv);
		fprintf(stderr, "dpdk-lb-setup: %s: %s\n", o->devbind, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int bind_one(const struct lb_system_nic *nic, const struct setup_opts *o)
{
	char drv[128];

	if (!current_driver(o, nic->pci, drv, sizeof(drv)))
		return setup_fail("NIC %s not found (no %s/sys/bus/pci/devices/%s): check "
				  "system.nics against `lspci -D`", nic->pci, o->root, nic->pci);
	if (strcmp(drv, nic->driver) == 0) {
		setup_say("NIC %s already bound to %s", nic->pci, nic->driver);
		return 0;
	}
	if (strcmp(nic->driver, "vfio-pci") == 0 && !iommu_on(o))
		return setup_fail("NIC %s: vfio-pci needs the IOMMU, and it is off (no IOMMU groups): "
				  "enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on "
				  "iommu=pt (or amd_iommu=on), or set its driver to uio_pci_generic",
				  nic->pci);
	if (o->dry_run) {
		setup_say("would bind NIC %s (now %s) to %s", nic->pci, drv[0] ? drv : "no driver",
			  nic->driver);
		return 0;
	}
	int rc = run_devbind(o, nic);
	if (rc != 0)
		return setup_fail("NIC %s: %s --bind=%s %s failed (exit %d)", nic->pci, o->devbind,
				  nic->driver, nic->pci, rc);
	if (!current_driver(o, nic->pci, drv, sizeof(drv)) || strcmp(drv, nic->driver) != 0)
		return setup_fail("NIC %s: still bound to %s after %s", nic->pci,
				  drv[0] ? drv : "no driver", o->devbind);
	setup_say("NIC %s bound to %s", nic->pci, nic->driver);
	return 0;
}

int setup_nics(const struct lb_system_cfg *s, const struct setup_opts *o)
{
	for (uint32_t i = 0; i < s->n_nics; i++)
		if (bind_one(&s->nics[i], o) != 0)
			return -1;
	return 0;
}
