/* Names of configuration backups: dpdk-lb-YYYYmmddTHHMMSS.mmmZ[-LABEL].json, ordered by time. */
#ifndef DPDK_LB_BACKUP_NAME_H
#define DPDK_LB_BACKUP_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LB_BACKUP_LABEL_MAX 64
#define LB_BACKUP_NAME_LEN 128 /* longest name and its terminator */

/* True when label is 1-64 letters, digits, '.', '_' or '-' (not starting with '.' or '-'). */
bool lb_backup_label_valid(const char *label);

/* Writes the name of a backup made at unix_ms with label (NULL or "": none); 0 or -1. */
int lb_backup_name_format(uint64_t unix_ms, const char *label, char *buf, size_t len);

/*
 * Parses a backup name: 0 with *unix_ms and label (LB_BACKUP_LABEL_MAX + 1 bytes, "" for none)
 * set, or -1 when name is not one (so no name with '/' or ".." is ever a backup).
 */
int lb_backup_name_parse(const char *name, uint64_t *unix_ms, char *label);

#endif
