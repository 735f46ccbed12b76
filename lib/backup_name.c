/* Backup file names: a UTC timestamp to the millisecond, so names sort by time. */
#include "backup_name.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define PREFIX "dpdk-lb-"
#define SUFFIX ".json"
#define STAMP_LEN 20 /* YYYYmmddTHHMMSS.mmmZ */

static bool label_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

static bool label_valid_n(const char *s, size_t n)
{
	if (n == 0 || n > LB_BACKUP_LABEL_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!label_char(s[i]))
			return false;
	return true;
}

bool lb_backup_label_valid(const char *label)
{
	return label != NULL && label_valid_n(label, strlen(label));
}

int lb_backup_name_format(uint64_t unix_ms, const char *label, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	char stamp[32];
	bool has_label = label != NULL && label[0] != '\0';

	if ((has_label && !lb_backup_label_valid(label)) || gmtime_r(&secs, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm) != 15)
		return -1;
	int n = snprintf(buf, len, PREFIX "%s.%03uZ%s%s" SUFFIX, stamp, (unsigned)(unix_ms % 1000),
			 has_label ? "-" : "", has_label ? label : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, size_t n, unsigned *out)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

int lb_backup_name_parse(const char *name, uint64_t *unix_ms, char *label)
{
	size_t n = strlen(name), pl = strlen(PREFIX), sl = strlen(SUFFIX);
	unsigned y, mo, d, h, mi, s, ms;
	const char *t = name + pl;

	if (n < pl + STAMP_LEN + sl || strncmp(name, PREFIX, pl) != 0 ||
	    strcmp(name + n - sl, SUFFIX) != 0)
		return -1;
	if (!digits(t, 4, &y) || !digits(t + 4, 2, &mo) || !digits(t + 6, 2, &d) || t[8] != 'T' ||
	    !digits(t + 9, 2, &h) || !digits(t + 11, 2, &mi) || !digits(t + 13, 2, &s) ||
	    t[15] != '.' || !digits(t + 16, 3, &ms) || t[19] != 'Z')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	const char *rest = t + STAMP_LEN, *end = name + n - sl;
	label[0] = '\0';
	if (rest != end) {
		if (*rest != '-' || !label_valid_n(rest + 1, (size_t)(end - rest - 1)))
			return -1;
		memcpy(label, rest + 1, (size_t)(end - rest - 1));
		label[end - rest - 1] = '\0';
	}
	int64_t days = days_from_civil(y, mo, d);
	*unix_ms = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + s) * 1000 + ms;
	return 0;
}
