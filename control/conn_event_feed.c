#include "conn_event_feed.h"
#include "dataplane.h"


#define FEED_BATCH 64

static struct {
	conn_event_fn fn;
	void *arg;
} subscribers[CONN_EVENT_FEED_MAX_SUBSCRIBERS];
static uint32_t n_subscribers;
static uint64_t read_by_type[4];

int conn_event_feed_subscribe(conn_event_fn fn, void *arg)
{
	if (n_subscribers == CONN_EVENT_FEED_MAX_SUBSCRIBERS)
		return -1;
	subscribers[n_subscribers].fn = fn;
	subscribers[n_subscribers].arg = arg;
	n_subscribers++;
	return 0;
}

uint32_t conn_event_feed_poll(uint32_t max_per_worker)
{
	struct conn_event batch[FEED_BATCH];
	uint32_t total = 0;

	for (uint16_t w = 0; w < lb_rt.n_workers; w++) {
		uint32_t done = 0;
		while (done < max_per_worker) {
			uint32_t want = max_per_worker - done < FEED_BATCH ? max_per_worker - done : FEED_BATCH;
			uint32_t n = conn_events_read(lb_rt.workers[w], batch, want);
			for (uint32_t i = 0; i < n; i++) {
				if (batch[i].type < 4)
					read_by_type[batch[i].type]++;
				for (uint32_t s = 0; s < n_subscribers; s++)
					subscribers[s].fn(&batch[i], subscribers[s].arg);
			}
			done += n;
			if (n < want)
				break;
		}
		total += done;
	}
	return total;
}

void conn_event_feed_counts(uint64_t counts[4])
{
	for (int t = 0; t < 4; t++)
		counts[t] = read_by_type[t];
}
