/*
 * The status page at / of the metrics listener: services and reals with their state and rates,
 * and charts of connections, rates, bandwidth and drops over time, drawn here as inline SVG
 * from the rate history (rate_history.h): no script, no asset to ship, readable by any
 * browser and by curl. The page reloads itself every 5 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_store.h"
#include "dataplane.h"
#include "health.h"
#include "health_config.h"
#include "metrics.h"
#include "rate_estimator.h"
#include "rate_history.h"

#define CHART_W 720
#define CHART_H 170
#define CHART_LEFT 64 /* room for the y labels */
#define CHART_BOTTOM 20
#define SECOND_POINTS 900 /* the per-second view: the last 15 minutes */
#define MINUTE_POINTS RATE_HISTORY_MINUTES

struct series {
	const char *label, *color;
	size_t offset; /* of a double in struct rate_history_point */
};

/* 1234567 -> "1.23M" (SI, for axis labels and rates). */
static const char *si(double v, char *buf, size_t len)
{
	static const char *const units[] = {"", "k", "M", "G", "T"};
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, v >= 100 || u == 0 ? "%.0f%s" : "%.3g%s", v, units[u]);
	return buf;
}

static double value_of(const struct rate_history_point *p, size_t offset)
{
	return *(const double *)((const char *)p + offset);
}

/* The smallest of 1, 2, 5 x 10^k at or above v (a round top for the y axis). */
static double round_up(double v)
{
	double step = 1;

	if (v <= 1)
		return 1;
	while (step * 10 < v)
		step *= 10;
	return v <= step * 2 ? step * 2 : v <= step * 5 ? step * 5 : step * 10;
}

static void time_label(struct text_buf *b, uint64_t t, double x, const char *anchor)
{
	char hm[16];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(hm, sizeof(hm), "%H:%M:%S", &tm);
	text_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\">%s</text>", x, CHART_H - 4,
			anchor, hm);
}

/* One chart of the series over pts[0..n); data-points and data-max say what it drew. */
static void chart(struct text_buf *b, const char *id, const char *title,
		  const struct rate_history_point *pts, size_t n, const struct series *s, size_t ns)
{
	double max = 0;
	char a[16];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ns; k++)
			if (value_of(&pts[i], s[k].offset) > max)
				max = value_of(&pts[i], s[k].offset);
	double top = round_up(max), plot_w = CHART_W - CHART_LEFT - 8, plot_h = CHART_H - CHART_BOTTOM - 8;
	text_buf_printf(b, "<div class=\"chart\"><h3>%s", title);
	for (size_t k = 0; k < ns; k++)
		text_buf_printf(b, " <span style=\"color:%s\">&#9632; %s</span>", s[k].color, s[k].label);
	text_buf_printf(b, "</h3><svg id=\"%s\" data-points=\"%zu\" data-max=\"%g\" width=\"%d\" "
			"height=\"%d\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">",
			id, n, max, CHART_W, CHART_H, CHART_W, CHART_H);
	text_buf_printf(b, "<rect x=\"%d\" y=\"8\" width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" "
			"stroke=\"#ccc\"/>", CHART_LEFT, plot_w, plot_h);
	text_buf_printf(b, "<text x=\"%d\" y=\"16\" text-anchor=\"end\">%s</text>", CHART_LEFT - 4,
			si(top, a, sizeof(a)));
	text_buf_printf(b, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\">0</text>", CHART_LEFT - 4,
			8 + plot_h);
	if (n == 0)
		text_buf_printf(b, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">no history "
				"yet</text>", CHART_LEFT + plot_w / 2, 8 + plot_h / 2);
	for (size_t k = 0; k < ns && n > 0; k++) {
		text_buf_printf(b, "<polyline class=\"series\" data-series=\"%s\" fill=\"none\" "
				"stroke=\"%s\" stroke-width=\"2\" points=\"", s[k].label, s[k].color);
		for (size_t i = 0; i < n; i++) {
			double x = CHART_LEFT + (n > 1 ? plot_w * (double)i / (double)(n - 1) : plot_w);
			double y = 8 + plot_h - plot_h * value_of(&pts[i], s[k].offset) / top;
			text_buf_printf(b, "%.1f,%.1f ", x, y);
		}
		text_buf_printf(b, "\"/>");
	}
	if (n > 0) {
		time_label(b, pts[0].t, CHART_LEFT, "start");
		time_label(b, pts[n - 1].t, CHART_LEFT + plot_w, "end");
	}
	text_buf_printf(b, "</svg></div>\n");
}

#define SERIES(label, color, field) {label, color, offsetof(struct rate_history_point, field)}

static void charts(struct text_buf *b, bool per_minute)
{
	static const struct series conns[] = {SERIES("connections", "#1f77b4", conns)};
	static const struct series rates[] = {SERIES("new conns/s", "#2ca02c", cps),
					      SERIES("packets in/s", "#ff7f0e", inpps),
					      SERIES("packets out/s", "#9467bd", outpps)};
	static const struct series bytes[] = {SERIES("bytes in/s", "#17becf", inbps),
					      SERIES("bytes out/s", "#8c564b", outbps)};
	static const struct series drops[] = {SERIES("drops/s", "#d62728", drops)};
	size_t max = per_minute ? MINUTE_POINTS : SECOND_POINTS;
	struct rate_history_point *pts = malloc(max * sizeof(*pts));

	if (pts == NULL) {
		b->failed = true;
		return;
	}
	size_t n = rate_history_read(-1, per_minute ? 60 : 1, pts, max);
	text_buf_printf(b, "<h2>Over time (%s) <small><a href=\"%s\">%s</a></small></h2>\n",
			per_minute ? "per minute, last 24 h" : "per second, last 15 min",
			per_minute ? "/" : "/?res=60",
			per_minute ? "per second" : "per minute");
	chart(b, "chart-conns", "Connections", pts, n, conns, 1);
	chart(b, "chart-rates", "Rates", pts, n, rates, 3);
	chart(b, "chart-bytes", "Bandwidth", pts, n, bytes, 2);
	chart(b, "chart-drops", "Drops", pts, n, drops, 1);
	free(pts);
}

static void real_row(struct text_buf *b, const struct lb_real_cfg *r, bool fallback)
{
	char ap[LB_ADDR_PORT_STRLEN], x[5][16];
	struct traffic_sum t;
	struct lb_rates rt;
	json_t *o = json_object();

	stats_real(r->id, &t);
	rate_estimator_real(r->id, &rt);
	health_real_summary(r, o);
	const char *h = json_string_value(json_object_get(o, "health"));
	text_buf_printf(b, "<tr class=\"real\"><td>&rarr; %s%s</td><td>%s</td><td>%u</td><td>%u</td>"
			"<td class=\"%s\">%s</td><td>%s</td>",
			lb_addr_port_format(&r->ip, r->port, ap, sizeof(ap)), fallback ? " (fallback)" : "",
			lb_forward_name(r->forward), r->weight, r->eff_weight, h ? h : "?", h ? h : "?",
			r->eff_out ? "out" : lb_admin_state_name(r->admin_state));
	text_buf_printf(b, "<td>%ld</td><td>%ld</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
			"<td>%s</td></tr>\n", (long)t.active, (long)t.inactive,
			si((double)t.conns, x[0], 16), si(rt.cps, x[1], 16), si(rt.inpps, x[2], 16),
			si(rt.outpps, x[3], 16), si(rt.inbps, x[4], 16));
	json_decref(o);
}

static void services_table(struct text_buf *b)
{
	const struct lb_config *c = config_store_running();
	char ap[LB_ADDR_PORT_STRLEN], x[5][16];

	text_buf_printf(b, "<h2>Services (%u)</h2>\n<table><tr><th>Service / real</th><th>Forward"
			"</th><th>Weight</th><th>Eff.</th><th>Health</th><th>State</th><th>Active</th>"
			"<th>Inactive</th><th>Conns</th><th>CPS</th><th>InPPS</th><th>OutPPS</th>"
			"<th>InBPS</th></tr>\n", c->n_services);
	for (uint32_t i = 0; i < c->n_services; i++) {
		const struct lb_service_cfg *s = &c->services[i];
		struct traffic_sum t;
		struct lb_rates rt;
		stats_service(s->id, &t);
		rate_estimator_service(s->id, &rt);
		text_buf_printf(b, "<tr class=\"service\"><td>%s %s %s</td><td>%s</td><td colspan=\"4\">"
				"%u reals%s</td><td></td><td></td><td>%s</td><td>%s</td><td>%s</td>"
				"<td>%s</td><td>%s</td></tr>\n", lb_proto_name(s->proto),
				lb_addr_port_format(&s->vip, s->port, ap, sizeof(ap)), s->scheduler,
				lb_forward_name(s->forward), s->n_reals,
				health_service_all_down(s) ? ", <b class=\"down\">all down</b>" : "",
				si((double)t.conns, x[0], 16), si(rt.cps, x[1], 16), si(rt.inpps, x[2], 16),
				si(rt.outpps, x[3], 16), si(rt.inbps, x[4], 16));
		for (uint32_t j = 0; j < s->n_reals; j++)
			real_row(b, &s->reals[j], false);
		if (s->has_fallback)
			real_row(b, &s->fallback, true);
	}
	text_buf_printf(b, "</table>\n");
}

static void drops_and_ports(struct text_buf *b)
{
	struct lb_worker_stats ws;

	stats_workers(&ws);
	text_buf_printf(b, "<h2>Dataplane</h2>\n<table><tr><th>Received</th><th>Sent</th><th>Flows"
			"</th></tr><tr><td>%lu</td><td>%lu</td><td>%lu</td></tr></table>\n"
			"<h3>Drops by reason</h3><table>", (unsigned long)ws.rx_packets,
			(unsigned long)ws.tx_packets, (unsigned long)ws.flows);
	for (int r = 0; r < LB_DROP_REASON_COUNT; r++)
		if (ws.drops[r] > 0)
			text_buf_printf(b, "<tr><td>%s</td><td>%lu</td></tr>", lb_drop_reason_names[r],
					(unsigned long)ws.drops[r]);
	text_buf_printf(b, "</table>\n<h3>Ports</h3><table><tr><th>Port</th><th>Link</th><th>RX "
			"packets</th><th>TX packets</th><th>Missed</th><th>Errors</th></tr>");
	for (uint16_t p = 0; p < lb_rt.n_ports; p++) {
		struct lb_port_stats st;
		if (port_stats_get(p, &st) != 0)
			memset(&st, 0, sizeof(st));
		text_buf_printf(b, "<tr><td>%u ", p);
		text_buf_html(b, lb_rt.ports[p].name);
		text_buf_printf(b, "</td><td>%s</td><td>%lu</td><td>%lu</td><td>%lu</td><td>%lu</td>"
				"</tr>", st.link_up ? "up" : "down", (unsigned long)st.rx_packets,
				(unsigned long)st.tx_packets, (unsigned long)st.rx_missed,
				(unsigned long)(st.rx_errors + st.tx_errors));
	}
	text_buf_printf(b, "</table>\n");
}

void status_page_render(struct text_buf *b, bool per_minute)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d %H:%M:%S UTC", &tm);
	text_buf_printf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
			"<meta http-equiv=\"refresh\" content=\"5\"><title>dpdk-lb status</title><style>"
			"body{font-family:sans-serif;margin:1em 2em;color:#222}"
			"table{border-collapse:collapse;margin-bottom:1em}"
			"td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}"
			"td:first-child,th:first-child{text-align:left}"
			"tr.service{background:#eef}.down{color:#c00}.up{color:#080}"
			"svg text{font-size:11px;fill:#555}.chart h3{margin:.6em 0 .2em;font-size:1em}"
			"</style></head><body>\n<h1>dpdk-lb</h1>\n<p>%s &middot; configuration generation "
			"%lu &middot; <a href=\"/metrics\">/metrics</a></p>\n",
			now, (unsigned long)config_store_generation());
	charts(b, per_minute);
	services_table(b);
	drops_and_ports(b);
	text_buf_printf(b, "</body></html>\n");
}
