/* Hugepages: reserve the configured count and make sure a hugetlbfs of that size is mounted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "setup.h"

/* The kernel's count of reserved pages of size kb, or -1 when that size does not exist. */
static long read_nr(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

static int write_nr(const char *path, uint32_t n)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	int rc = fprintf(f, "%u\n", n) < 0 ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

/* Whether /proc/mounts lists a hugetlbfs of page size kb (the kernel's default size is 2M). */
static bool hugetlbfs_mounted(const struct setup_opts *o, uint32_t kb)
{
	char path[512], line[1024], want[32];
	bool found = false;

	snprintf(path, sizeof(path), "%s/proc/mounts", o->root);
	snprintf(want, sizeof(want), "pagesize=%s", kb == 1048576 ? "1024M" : "2M");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL &&
			(strstr(line, want) != NULL || (kb == 2048 && strstr(line, "pagesize=") == NULL));
	fclose(f);
	return found;
}

static int mount_hugetlbfs(const struct lb_system_cfg *s, const struct setup_opts *o)
{
	if (hugetlbfs_mounted(o, s->hugepage_kb)) {
		setup_say("hugetlbfs of %s pages already mounted", s->hugepage_kb == 2048 ? "2M" : "1G");
		return 0;
	}
	if (o->dry_run) {
		setup_say("would mount hugetlbfs on %s", s->hugetlbfs);
		return 0;
	}
	if (mkdir(s->hugetlbfs, 0755) != 0 && errno != EEXIST)
		return setup_fail("mkdir %s: %s", s->hugetlbfs, strerror(errno));
	if (mount("nodev", s->hugetlbfs, "hugetlbfs", 0,
		  s->hugepage_kb == 2048 ? "pagesize=2M" : "pagesize=1G") != 0)
		return setup_fail("mount hugetlbfs on %s: %s", s->hugetlbfs, strerror(errno));
	setup_say("mounted hugetlbfs on %s", s->hugetlbfs);
	return 0;
}

int setup_hugepages(const struct lb_system_cfg *s, const struct setup_opts *o)
{
	char path[512];
	const char *size = s->hugepage_kb == 2048 ? "2M" : "1G";

	if (s->hugepages == 0) {
		setup_say("no hugepages configured (system.hugepages 0)");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/mm/hugepages/hugepages-%ukB/nr_hugepages",
		 o->root, s->hugepage_kb);
	long have = read_nr(path);
	if (have < 0)
		return setup_fail("hugepages of %s are missing: this kernel or CPU offers no %s pages "
				  "(%s unreadable); set system.hugepage_size to a size it has, or "
				  "system.hugepages to 0 and run the EAL with --no-huge", size, size, path);
	if (have < (long)s->hugepages) {
		if (o->dry_run) {
			setup_say("would reserve %u hugepages of %s (%ld now)", s->hugepages, size, have);
			return mount_hugetlbfs(s, o);
		}
		if (write_nr(path, s->hugepages) != 0)
			return setup_fail("cannot reserve hugepages (%s: %s)", path, strerror(errno));
		have = read_nr(path);
	}
	if (have < (long)s->hugepages)
		return setup_fail("hugepages are missing: asked the kernel for %u pages of %s and got "
				  "%ld (memory too small or fragmented); reserve them at boot "
				  "(hugepages=%u on the kernel command line) or lower system.hugepages",
				  s->hugepages, size, have, s->hugepages);
	setup_say("%ld hugepages of %s reserved", have, size);
	return mount_hugetlbfs(s, o);
}
