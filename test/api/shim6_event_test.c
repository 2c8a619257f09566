// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_event_test: shim6_subscribe()/shim6_read_event() against a running
// API server (test/unit/api/events.test.ts drives it): the program
// subscribes on a loopback TCP socket (ULID pair ::1/::1, FII 0), prints
// "ready", and the test's fake backend then emits, in order: an event of
// another ULID pair (must not arrive), established, pair-changed
// (2001:db8:1:a::1 → 2001:db8:1:b::1), path-failed, path-recovered, lost.
// Prints TAP-like lines; the exit status is the number of failures.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <shim6/shim.h>

static int failures, n;

#define CHECK(cond, ...) do { \
	n++; \
	if (cond) { printf("ok %d - ", n); printf(__VA_ARGS__); printf("\n"); } \
	else { failures++; printf("not ok %d - ", n); printf(__VA_ARGS__); printf(" (errno %d)\n", errno); } \
} while (0)

#define FAILS_WITH(call, e) ((call) == -1 && errno == (e))

static void die(const char *what) { perror(what); exit(100); }

static int tcp_pair(int *srv, int *acc)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("listen");
	int c = socket(AF_INET6, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	*acc = accept(l, NULL, NULL);
	*srv = l;
	return c;
}

static const char *addr(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Wait for and read one event (5 s at most).
static int next(int evfd, struct shim6_event *ev)
{
	struct pollfd p = { evfd, POLLIN, 0 };
	if (poll(&p, 1, 5000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	return shim6_read_event(evfd, ev);
}

int main(void)
{
	int l, acc;
	int tcp = tcp_pair(&l, &acc);
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	/* Errors. */
	int u = socket(AF_INET6, SOCK_DGRAM, 0);
	CHECK(FAILS_WITH(shim6_subscribe(u), EOPNOTSUPP), "subscribe on an unconnected socket: EOPNOTSUPP");
	CHECK(FAILS_WITH(shim6_subscribe(-1), EBADF), "subscribe on -1: EBADF");
	CHECK(FAILS_WITH(shim6_subscribe_mask(tcp, 0), EINVAL), "subscribe with an empty mask: EINVAL");
	CHECK(FAILS_WITH(shim6_subscribe_mask(tcp, 1u << 20), EINVAL), "subscribe with an unknown event bit: EINVAL");
	close(u);

	/* Two subscriptions: everything, and pair changes only. */
	int evfd = shim6_subscribe(tcp);
	CHECK(evfd >= 0, "shim6_subscribe on a connected TCP socket (fd %d)", evfd);
	int pairfd = shim6_subscribe_mask(tcp, SHIM_EVENT_BIT(SHIM_EVENT_PAIR_CHANGED));
	CHECK(pairfd >= 0, "shim6_subscribe_mask(PAIR_CHANGED)");
	CHECK(fcntl(evfd, F_GETFD) & FD_CLOEXEC, "the event descriptor is close-on-exec");
	/* Nothing queued yet. */
	fcntl(evfd, F_SETFL, fcntl(evfd, F_GETFL) | O_NONBLOCK);
	struct shim6_event ev;
	CHECK(FAILS_WITH(shim6_read_event(evfd, &ev), EAGAIN), "non-blocking read with nothing queued: EAGAIN");
	fcntl(evfd, F_SETFL, fcntl(evfd, F_GETFL) & ~O_NONBLOCK);
	/* The SOL_SHIM calls still work beside it. */
	int v = -1;
	socklen_t len = sizeof(v);
	CHECK(shim6_getsockopt(tcp, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 1, "SHIM_ASSOCIATED = 1 beside the subscription");

	printf("ready\n");
	fflush(stdout);

	static const int want[] = { SHIM_EVENT_ESTABLISHED, SHIM_EVENT_PAIR_CHANGED, SHIM_EVENT_PATH_FAILED, SHIM_EVENT_PATH_RECOVERED, SHIM_EVENT_LOST };
	uint64_t worst = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		memset(&ev, 0xa5, sizeof(ev));
		int r = next(evfd, &ev);
		uint64_t now = mono_ns();
		CHECK(r == 0 && ev.ev_type == (uint32_t)want[i], "event %zu: type %u (want %d)", i, ev.ev_type, want[i]);
		CHECK(!strcmp(addr(&ev.ev_ulid_local, a), "::1") && !strcmp(addr(&ev.ev_ulid_peer, b), "::1") && ev.ev_fii == 0,
		      "event %zu: ULID pair %s %s FII %u", i, a, b, ev.ev_fii);
		CHECK(ev.ev_dropped == 0 && ev.ev_reserved == 0, "event %zu: nothing dropped", i);
		CHECK(ev.ev_mono_ns > 0 && ev.ev_mono_ns <= now && ev.ev_time_ns > 1600000000ull * 1000000000ull,
		      "event %zu: stamped (%.3f ms ago)", i, (now - ev.ev_mono_ns) / 1e6);
		if (now - ev.ev_mono_ns > worst)
			worst = now - ev.ev_mono_ns;
		if (want[i] == SHIM_EVENT_PAIR_CHANGED) {
			CHECK(ev.ev_local.lc_family == AF_INET6 && !strcmp(addr(&ev.ev_local.lc_addr, a), "2001:db8:1:a::1") &&
			      ev.ev_peer.lc_family == AF_INET6 && !strcmp(addr(&ev.ev_peer.lc_addr, b), "2001:db8:1:b::1"),
			      "pair-changed names the new pair %s → %s", a, b);
		}
		if (want[i] == SHIM_EVENT_LOST)
			CHECK(ev.ev_local.lc_family == 0 && ev.ev_peer.lc_family == 0, "lost names no pair");
	}
	printf("# worst event latency %.3f ms\n", worst / 1e6);

	/* The masked subscription saw the pair change only. */
	CHECK(next(pairfd, &ev) == 0 && ev.ev_type == SHIM_EVENT_PAIR_CHANGED, "the PAIR_CHANGED subscription got the pair change");
	fcntl(pairfd, F_SETFL, fcntl(pairfd, F_GETFL) | O_NONBLOCK);
	CHECK(FAILS_WITH(shim6_read_event(pairfd, &ev), EAGAIN), "and nothing else");
	close(pairfd);

	/* The test stops the server: the subscription ends with ECONNRESET. */
	printf("stop\n");
	fflush(stdout);
	CHECK(FAILS_WITH(next(evfd, &ev), ECONNRESET), "the agent going away ends the subscription: ECONNRESET");
	close(evfd);

	close(tcp);
	close(acc);
	close(l);
	printf("%d tests, %d failures\n", n, failures);
	return failures;
}
