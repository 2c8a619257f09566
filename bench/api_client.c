// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// api_client: the C side of `make bench-api` (bench/api.ts runs it against
// shim6d in a namespace — or an API server it starts in-process —,
// SHIM6_API_SOCKET pointing there). Each mode works on a TCP connection of
// its own (to SHIM6_BENCH_PEER when set, else over loopback) and prints one
// JSON line.
//   api_client lat assoc N    N x shim6_getsockopt(SHIM_ASSOCIATED): per-call µs quantiles
//   api_client lat pref N     N x shim6_setsockopt(SHIM_LOC_PEER_PREF)
//   api_client lat native N   N x getsockopt(IPPROTO_TCP, TCP_NODELAY): the floor
//   api_client tput SECS      prints "ready", waits for a line on stdin, then
//                             calls SHIM_ASSOCIATED for SECS seconds: {"calls":n}
//   api_client events N       shim6_subscribe(), prints "ready", then reads N
//                             events: ms from ev_mono_ns to the read, quantiles
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <shim6/shim.h>

static void die(const char *what)
{
	fprintf(stderr, "api_client: %s: %s\n", what, shim_strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Against real agents (bench/api.ts, SHIM6_BENCH_BACKEND=agent): a TCP
 * connection from SHIM6_BENCH_LOCAL to [SHIM6_BENCH_PEER]:SHIM6_BENCH_PORT
 * (an echo server on the peer host), and traffic until the shim has a
 * context for it. */
static int remote_conn(const char *peer)
{
	struct sockaddr_in6 sa, from;
	memset(&sa, 0, sizeof(sa));
	memset(&from, 0, sizeof(from));
	sa.sin6_family = from.sin6_family = AF_INET6;
	const char *local = getenv("SHIM6_BENCH_LOCAL"), *port = getenv("SHIM6_BENCH_PORT");
	if (inet_pton(AF_INET6, peer, &sa.sin6_addr) != 1 || !port || (local && inet_pton(AF_INET6, local, &from.sin6_addr) != 1))
		die("SHIM6_BENCH_PEER/LOCAL/PORT");
	sa.sin6_port = htons((uint16_t)atoi(port));
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	if (c < 0 || (local && bind(c, (struct sockaddr *)&from, sizeof(from)) < 0) || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	for (int i = 0; i < 200; i++) {
		int v = 0;
		socklen_t len = sizeof(v);
		char b;
		if (shim6_getsockopt(c, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 1)
			return c;
		if (write(c, "x", 1) == 1)
			(void)!read(c, &b, 1);
		usleep(50000);
	}
	errno = ENOENT;
	die("no context for the connection");
	return -1;
}

static int tcp_conn(void)
{
	const char *peer = getenv("SHIM6_BENCH_PEER");
	if (peer && *peer)
		return remote_conn(peer);
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("listen");
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	if (accept(l, NULL, NULL) < 0)
		die("accept");
	return c;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double q(const double *s, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);
	return s[i >= n ? n - 1 : i];
}

static void report(double *v, size_t n, const char *unit)
{
	qsort(v, n, sizeof(*v), cmp);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	printf("{\"n\":%zu,\"unit\":\"%s\",\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f,\"mean\":%.3f}\n",
	       n, unit, q(v, n, 0.5), q(v, n, 0.9), q(v, n, 0.99), v[n - 1], sum / (double)n);
}

static int call(int fd, const char *what, const struct shim_locator *lc)
{
	if (!strcmp(what, "assoc")) {
		int v;
		socklen_t len = sizeof(v);
		if (shim6_getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) < 0 || v != 1)
			return -1;
	} else if (!strcmp(what, "pref")) {
		if (shim6_setsockopt(fd, SOL_SHIM, SHIM_LOC_PEER_PREF, lc, sizeof(*lc)) < 0)
			return -1;
	} else {
		int v;
		socklen_t len = sizeof(v);
		if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) < 0)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: api_client lat assoc|pref|native N | tput SECS | events N\n");
		return 2;
	}
	int fd = tcp_conn();
	struct shim_locator lc;
	memset(&lc, 0, sizeof(lc));
	lc.lc_family = AF_INET6;
	lc.lc_prio = 1;
	lc.lc_weight = 10;
	const char *pref = getenv("SHIM6_BENCH_PREF");
	inet_pton(AF_INET6, pref && *pref ? pref : "2001:db8:1:b::1", &lc.lc_addr);

	if (!strcmp(argv[1], "lat") && argc >= 4) {
		size_t n = strtoul(argv[3], NULL, 10);
		double *v = calloc(n, sizeof(*v));
		if (!v || !n)
			die("calloc");
		for (size_t i = 0; i < n / 10 + 10; i++)  // warm up: connection, caches, the agent's JIT
			if (call(fd, argv[2], &lc) < 0)
				die(argv[2]);
		for (size_t i = 0; i < n; i++) {
			uint64_t t0 = now_ns();
			if (call(fd, argv[2], &lc) < 0)
				die(argv[2]);
			v[i] = (double)(now_ns() - t0) / 1e3;
		}
		report(v, n, "us");
		return 0;
	}
	if (!strcmp(argv[1], "tput")) {
		double secs = atof(argv[2]);
		for (int i = 0; i < 200; i++)
			if (call(fd, "assoc", &lc) < 0)
				die("assoc");
		printf("ready\n");
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof(line), stdin))
			return 1;
		uint64_t t0 = now_ns(), end = t0 + (uint64_t)(secs * 1e9), t;
		unsigned long calls = 0;
		do {
			if (call(fd, "assoc", &lc) < 0)
				die("assoc");
			calls++;
		} while ((t = now_ns()) < end);
		printf("{\"calls\":%lu,\"secs\":%.6f}\n", calls, (double)(t - t0) / 1e9);
		return 0;
	}
	if (!strcmp(argv[1], "events")) {
		size_t n = strtoul(argv[2], NULL, 10);
		double *v = calloc(n, sizeof(*v));
		if (!v || !n)
			die("calloc");
		int evfd = shim6_subscribe(fd);
		if (evfd < 0)
			die("shim6_subscribe");
		printf("ready\n");
		fflush(stdout);
		unsigned dropped = 0;
		for (size_t i = 0; i < n; i++) {
			struct pollfd p = { evfd, POLLIN, 0 };
			if (poll(&p, 1, 10000) != 1) {
				errno = ETIMEDOUT;
				die("poll");
			}
			struct shim6_event ev;
			if (shim6_read_event(evfd, &ev) < 0)
				die("shim6_read_event");
			v[i] = (double)(now_ns() - ev.ev_mono_ns) / 1e6;
			dropped += ev.ev_dropped;
		}
		fprintf(stderr, "api_client: %u events dropped\n", dropped);
		report(v, n, "ms");
		return 0;
	}
	fprintf(stderr, "api_client: unknown mode %s\n", argv[1]);
	return 2;
}
