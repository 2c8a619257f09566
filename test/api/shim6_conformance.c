// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_conformance: RFC 6316 conformance through libshim6 against a real
// agent (test/netns/api-conformance.test.ts runs it in host A's namespace;
// B runs a TCP and a UDP echo). One check per normative rule of the digest's
// checklist (SPEC-DIGEST §1.8, ids R1..R15) and per cell of its error
// matrix (§1.3, ids M-<option>-<column>), each printed as a TAP-like line
// "ok N - [ID] text"; the test maps the ids to the rules and fails on any
// "not ok" or missing id. Cells that need a state two healthy agents never
// show (an unverified or unreachable peer locator, no REAP) are in the unit
// rows of test/unit/api/server.test.ts (the test's table says which).
//
//   shim6_conformance PEER_ULID LOCAL_ULID TCP_PORT UDP_PORT PEER_LOC2 LOCAL_LOC2 LOCAL_NOT_HBA
//
// Steps that the test observes from outside (REAP's history, the interface
// counters) print "step NAME ..." and wait for a line on stdin.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <shim6/shim.h>

static int failures, n;

#define CHECK(id, cond, ...) do { \
	int ok_ = (cond); \
	n++; \
	printf("%s %d - [%s] ", ok_ ? "ok" : "not ok", n, id); \
	printf(__VA_ARGS__); \
	if (!ok_) { failures++; printf(" (errno %d %s)", errno, shim_strerror(errno)); } \
	printf("\n"); \
	fflush(stdout); \
} while (0)

static void die(const char *what) { perror(what); exit(100); }

static void step(const char *line)
{
	char buf[64];
	printf("step %s\n", line);
	fflush(stdout);
	if (!fgets(buf, sizeof(buf), stdin))
		exit(failures);
}

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;
	if (inet_pton(AF_INET6, s, &a) != 1)
		die(s);
	return a;
}

static struct shim_locator loc(struct in6_addr a, uint16_t prio, uint16_t weight)
{
	struct shim_locator l;
	memset(&l, 0, sizeof(l));
	l.lc_family = AF_INET6;
	l.lc_prio = prio;
	l.lc_weight = weight;
	l.lc_addr = a;
	return l;
}

/* getsockopt of an int: the value, or -1 with errno. */
static int geti(int fd, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);
	return getsockopt(fd, SOL_SHIM, opt, &v, &len) < 0 ? -1 : v;
}

static int seti(int fd, int opt, int v)
{
	return setsockopt(fd, SOL_SHIM, opt, &v, sizeof(v));
}

/* -1 with errno e? (errno is cleared first by the callers' expressions). */
#define FAILS(expr, e) (errno = 0, (expr) < 0 && errno == (e))

static int sock_to(int type, struct in6_addr from, struct in6_addr to, int port, int dontshim)
{
	struct sockaddr_in6 a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.sin6_family = b.sin6_family = AF_INET6;
	a.sin6_addr = from;
	b.sin6_addr = to;
	b.sin6_port = htons((uint16_t)port);
	int s = socket(AF_INET6, type, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("socket");
	if (dontshim)
		CHECK("R3", seti(s, SHIM_DONTSHIM, 1) == 0, "SHIM_DONTSHIM = 1 before connect() is allowed");
	if (port && connect(s, (struct sockaddr *)&b, sizeof(b)) < 0)
		die("connect");
	struct timeval tv = { 2, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

/* sendmsg() with one SOL_SHIM feedback cmsg (and an IPV6_TCLASS cmsg of another level when tclass >= 0). */
static ssize_t send_feedback(int s, uint8_t indicator, uint16_t reserved, int tclass)
{
	union { char buf[2 * CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
	char data[16] = "fb";
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	memset(&u, 0, sizeof(u));
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct shim_feedback fb = { SHIM_FB_OUTBOUND, indicator, reserved };
	c->cmsg_level = SOL_SHIM;
	c->cmsg_type = SHIM_FEEDBACK;
	c->cmsg_len = CMSG_LEN(sizeof(fb));
	memcpy(CMSG_DATA(c), &fb, sizeof(fb));
	size_t used = CMSG_SPACE(sizeof(fb));
	if (tclass >= 0) {
		c = CMSG_NXTHDR(&mh, c);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_TCLASS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &tclass, sizeof(int));
		used += CMSG_SPACE(sizeof(int));
	}
	mh.msg_controllen = used;
	return sendmsg(s, &mh, 0);
}

/* sendmsg() with a SHIM_LOC_PEER_SEND cmsg. */
static ssize_t send_pinned(int s, struct in6_addr peer)
{
	union { char buf[CMSG_SPACE(sizeof(struct sockaddr_in6))]; struct cmsghdr align; } u;
	char data[16] = "pin";
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	struct sockaddr_in6 sa;
	memset(&u, 0, sizeof(u));
	memset(&mh, 0, sizeof(mh));
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = peer;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SHIM;
	c->cmsg_type = SHIM_LOC_PEER_SEND;
	c->cmsg_len = CMSG_LEN(sizeof(sa));
	memcpy(CMSG_DATA(c), &sa, sizeof(sa));
	return sendmsg(s, &mh, 0);
}

/* Read one echo with recvmsg(); the SOL_SHIM locators it carried (zero when absent). -1 on error. */
static int recv_locators(int s, struct sockaddr_in6 *local, struct sockaddr_in6 *peer, int *levels_ok)
{
	char data[4096], ctl[256];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	memset(local, 0xee, sizeof(*local));
	memset(peer, 0xee, sizeof(*peer));
	if (recvmsg(s, &mh, 0) <= 0)
		return -1;
	int k = 0;
	*levels_ok = 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_type != SHIM_LOC_LOCAL_RECV && c->cmsg_type != SHIM_LOC_PEER_RECV)
			continue;
		if (c->cmsg_level != SOL_SHIM)
			*levels_ok = 0;
		memcpy(c->cmsg_type == SHIM_LOC_LOCAL_RECV ? local : peer, CMSG_DATA(c), sizeof(*local));
		k++;
	}
	return k;
}

static int is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: %s PEER_ULID LOCAL_ULID TCP_PORT UDP_PORT PEER_LOC2 LOCAL_LOC2 LOCAL_NOT_HBA\n", argv[0]);
		return 100;
	}
	struct in6_addr peer = addr(argv[1]), local = addr(argv[2]), peer2 = addr(argv[5]), local2 = addr(argv[6]), not_hba = addr(argv[7]);
	struct in6_addr unknown_peer = addr("2001:db8:ff::99"), unknown_local = addr("2001:db8:77::1");
	int tcp_port = atoi(argv[3]), udp_port = atoi(argv[4]);

	int tcp = sock_to(SOCK_STREAM, local, peer, tcp_port, 0);
	int udp = sock_to(SOCK_DGRAM, local, peer, udp_port, 0);
	int unc = sock_to(SOCK_DGRAM, local, peer, 0, 0);
	int noctx = sock_to(SOCK_DGRAM, local, peer, udp_port, 1);
	char buf[4096];
	for (int i = 0; i < 100 && geti(tcp, SHIM_ASSOCIATED) != 1; i++) {
		if (write(tcp, "x", 1) == 1)
			(void)!read(tcp, buf, sizeof(buf));
		usleep(50000);
	}

	// R2 and the SHIM_ASSOCIATED row (DESIGN.md: 2 on an unconnected socket).
	CHECK("R2", geti(tcp, SHIM_ASSOCIATED) == 1, "SHIM_ASSOCIATED on a connected socket with a context: 1");
	CHECK("R2", geti(noctx, SHIM_ASSOCIATED) == 0, "SHIM_ASSOCIATED on a connected socket without a context: 0");
	CHECK("M-ASSOCIATED-uncon", geti(unc, SHIM_ASSOCIATED) == 2, "SHIM_ASSOCIATED on an unconnected socket: 2 (unknown)");
	CHECK("M-ASSOCIATED-noctx", geti(noctx, SHIM_ASSOCIATED) == 0, "SHIM_ASSOCIATED without a context: 0, not ENOENT");
	CHECK("M-ASSOCIATED-other", FAILS(seti(tcp, SHIM_ASSOCIATED, 1), ENOPROTOOPT), "SHIM_ASSOCIATED is read-only: ENOPROTOOPT");

	// R3 and the SHIM_DONTSHIM row.
	CHECK("M-DONTSHIM-uncon", seti(unc, SHIM_DONTSHIM, 0) == 0 && geti(unc, SHIM_DONTSHIM) == 0, "SHIM_DONTSHIM on an unconnected socket: allowed");
	CHECK("R3", FAILS(seti(tcp, SHIM_DONTSHIM, 1), EOPNOTSUPP), "SHIM_DONTSHIM = 1 on a connected socket: EOPNOTSUPP");
	CHECK("M-DONTSHIM-other", FAILS(seti(tcp, SHIM_DONTSHIM, 1), EOPNOTSUPP) && geti(tcp, SHIM_DONTSHIM) == 0, "SHIM_DONTSHIM refused after connect, still 0");
	CHECK("M-DONTSHIM-noctx", geti(noctx, SHIM_DONTSHIM) == 1, "SHIM_DONTSHIM readable without a context: 1");

	// Every option but ASSOCIATED and DONTSHIM: EOPNOTSUPP unconnected; ENOENT without a context (not DEFERRED_SETUP).
	static const struct { int opt; const char *name; int size; } opts[] = {
		{ SHIM_HOT_STANDBY, "HOT_STANDBY", sizeof(int) },
		{ SHIM_LOC_LOCAL_PREF, "LOC_LOCAL_PREF", sizeof(struct shim_locator) },
		{ SHIM_LOC_PEER_PREF, "LOC_PEER_PREF", sizeof(struct shim_locator) },
		{ SHIM_LOC_LOCAL_RECV, "LOC_LOCAL_RECV", sizeof(int) },
		{ SHIM_LOC_PEER_RECV, "LOC_PEER_RECV", sizeof(int) },
		{ SHIM_LOC_LOCAL_SEND, "LOC_LOCAL_SEND", sizeof(struct shim_locator) },
		{ SHIM_LOC_PEER_SEND, "LOC_PEER_SEND", sizeof(struct shim_locator) },
		{ SHIM_LOCLIST_LOCAL, "LOCLIST_LOCAL", sizeof(struct shim_locator) },
		{ SHIM_LOCLIST_PEER, "LOCLIST_PEER", sizeof(struct shim_locator) },
		{ SHIM_APP_TIMEOUT, "APP_TIMEOUT", sizeof(int) },
		{ SHIM_PATHEXPLORE, "PATHEXPLORE", sizeof(struct shim_pathexplore) },
		{ SHIM_DEFERRED_CONTEXT_SETUP, "DEFERRED_SETUP", sizeof(int) },
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char id[64], val[32 * sizeof(struct shim_locator)];
		socklen_t len = sizeof(val);
		snprintf(id, sizeof(id), "M-%s-uncon", opts[i].name);
		CHECK(id, FAILS(getsockopt(unc, SOL_SHIM, opts[i].opt, val, &len), EOPNOTSUPP), "get SHIM_%s unconnected: EOPNOTSUPP", opts[i].name);
		if (opts[i].opt != SHIM_DEFERRED_CONTEXT_SETUP) {
			// A valid value of the option's type: 1, or a known locator, or default path exploration.
			memset(val, 0, sizeof(val));
			if (opts[i].size == sizeof(int))
				*(int *)val = 1;
			else if (opts[i].size == sizeof(struct shim_locator)) {
				struct shim_locator l = loc(opts[i].opt == SHIM_LOC_LOCAL_PREF || opts[i].opt == SHIM_LOC_LOCAL_SEND || opts[i].opt == SHIM_LOCLIST_LOCAL ? local : peer, 0, 0);
				memcpy(val, &l, sizeof(l));
			}
			CHECK(id, FAILS(setsockopt(unc, SOL_SHIM, opts[i].opt, val, (socklen_t)opts[i].size), EOPNOTSUPP), "set SHIM_%s unconnected: EOPNOTSUPP", opts[i].name);
			snprintf(id, sizeof(id), "M-%s-noctx", opts[i].name);
			len = sizeof(val);
			CHECK(id, FAILS(getsockopt(noctx, SOL_SHIM, opts[i].opt, val, &len), ENOENT), "get SHIM_%s without a context: ENOENT", opts[i].name);
			CHECK(id, FAILS(setsockopt(noctx, SOL_SHIM, opts[i].opt, val, (socklen_t)opts[i].size), ENOENT), "set SHIM_%s without a context: ENOENT", opts[i].name);
		}
	}
	// R4: binary values; DEFERRED needs no context.
	CHECK("M-DEFERRED_SETUP-noctx", geti(noctx, SHIM_DEFERRED_CONTEXT_SETUP) == 1, "SHIM_DEFERRED_CONTEXT_SETUP without a context: 1");
	CHECK("R4", geti(tcp, SHIM_DEFERRED_CONTEXT_SETUP) == 1 && geti(tcp, SHIM_CONTEXT_DEFERRED_SETUP) == 1, "SHIM_DEFERRED_CONTEXT_SETUP (both spellings) is binary: 1");
	CHECK("R4", FAILS(seti(tcp, SHIM_LOC_LOCAL_RECV, 2), EINVAL) && FAILS(seti(tcp, SHIM_LOC_PEER_RECV, -1), EINVAL), "SHIM_LOC_*_RECV must be binary: 2, -1 → EINVAL");
	CHECK("M-LOC_LOCAL_RECV-other", seti(tcp, SHIM_LOC_LOCAL_RECV, 1) == 0 && geti(tcp, SHIM_LOC_LOCAL_RECV) == 1, "SHIM_LOC_LOCAL_RECV set 1, get 1");
	CHECK("M-LOC_PEER_RECV-other", seti(tcp, SHIM_LOC_PEER_RECV, 1) == 0 && geti(tcp, SHIM_LOC_PEER_RECV) == 1, "SHIM_LOC_PEER_RECV set 1, get 1");
	CHECK("M-HOT_STANDBY-other", seti(tcp, SHIM_HOT_STANDBY, 1) == 0 && geti(tcp, SHIM_HOT_STANDBY) == 1 && seti(tcp, SHIM_HOT_STANDBY, 0) == 0,
	      "SHIM_HOT_STANDBY set 1, get 1, set 0");

	// R11: a stream socket's recvmsg() carries the latest locators (here the ULIDs: path 1).
	struct sockaddr_in6 lr, pr;
	int levels_ok = 0;
	int k = write(tcp, "y", 1) == 1 ? recv_locators(tcp, &lr, &pr, &levels_ok) : -1;
	CHECK("R11", k == 2 && !memcmp(&lr.sin6_addr, &local, 16) && !memcmp(&pr.sin6_addr, &peer, 16) && lr.sin6_family == AF_INET6,
	      "TCP recvmsg(): SHIM_LOC_LOCAL_RECV / SHIM_LOC_PEER_RECV = the pair in use");
	CHECK("R1", k == 2 && levels_ok, "the SHIM_LOC_*_RECV cmsgs have cmsg_level SOL_SHIM");
	// R10: when the shim can name no context, zero-filled locators (the agent made unreachable for one call).
	const char *env = getenv("SHIM6_API_SOCKET");
	char *saved = env ? strdup(env) : NULL;
	setenv("SHIM6_API_SOCKET", "/nonexistent/api.sock", 1);
	k = write(tcp, "z", 1) == 1 ? recv_locators(tcp, &lr, &pr, &levels_ok) : -1;
	CHECK("R10", k == 2 && is_zero(&lr, sizeof(lr)) && is_zero(&pr, sizeof(pr)), "recvmsg() with no context to name: zero-filled locators");
	if (saved)
		setenv("SHIM6_API_SOCKET", saved, 1), free(saved);
	else
		unsetenv("SHIM6_API_SOCKET");

	// R1: other levels go to the kernel, SOL_SHIM to the shim.
	int type = 0;
	socklen_t tl = sizeof(type);
	CHECK("R1", getsockopt(tcp, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM, "getsockopt(SOL_SOCKET, SO_TYPE) still reaches the kernel");
	CHECK("R1", FAILS(getsockopt(tcp, SOL_SOCKET + 6000, SHIM_ASSOCIATED, &type, &tl), ENOPROTOOPT), "an option at another level is not SOL_SHIM's: ENOPROTOOPT from the kernel");
	CHECK("R1", send_feedback(udp, SHIM_FB_SATISFACTORY, 0, 0x20) == 16, "sendmsg() with a SOL_SHIM cmsg and an IPPROTO_IPV6 cmsg: both accepted");

	// R5 / R15: locator lists.
	struct shim_locator list[40];
	socklen_t len = sizeof(list);
	CHECK("R5", getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len) == 0 && len >= 2 * sizeof(struct shim_locator) && len % sizeof(struct shim_locator) == 0,
	      "SHIM_LOCLIST_PEER get into a big buffer: an array of shim_locator");
	int npeer = (int)(len / sizeof(struct shim_locator));
	len = sizeof(struct shim_locator);
	CHECK("R5", FAILS(getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len), ETOOMANYLOCATORS), "SHIM_LOCLIST_PEER get into a one-locator buffer: ETOOMANYLOCATORS");
	CHECK("M-LOCLIST_PEER-ETOOMANYLOCATORS", errno == ETOOMANYLOCATORS, "small get buffer → ETOOMANYLOCATORS");
	len = sizeof(list);
	CHECK("M-LOCLIST_LOCAL-other", getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_LOCAL, list, &len) == 0 && len >= 2 * sizeof(struct shim_locator), "SHIM_LOCLIST_LOCAL get: Ls(local)");
	len = sizeof(struct shim_locator);
	CHECK("M-LOCLIST_LOCAL-ETOOMANYLOCATORS", FAILS(getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_LOCAL, list, &len), ETOOMANYLOCATORS), "SHIM_LOCLIST_LOCAL get into a one-locator buffer: ETOOMANYLOCATORS");
	CHECK("R5", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, sizeof(struct shim_locator) + 1), EINVAL), "SHIM_LOCLIST_* set: not an array of shim_locator → EINVAL");
	CHECK("R15", SHIM_MAX_LOCATORS == 32, "SHIM_MAX_LOCATORS is 32");
	for (int i = 0; i < 33; i++) {
		struct in6_addr a = unknown_peer;
		a.s6_addr[15] = (uint8_t)i;
		list[i] = loc(a, 0, 0);
	}
	CHECK("R15", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, 33 * sizeof(struct shim_locator)), ETOOMANYLOCATORS), "33 locators: ETOOMANYLOCATORS");
	CHECK("M-LOCLIST_PEER-ETOOMANYLOCATORS", errno == ETOOMANYLOCATORS, "LOCLIST_PEER set of 33 → ETOOMANYLOCATORS");
	CHECK("M-LOCLIST_LOCAL-ETOOMANYLOCATORS", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_LOCAL, list, 33 * sizeof(struct shim_locator)), ETOOMANYLOCATORS), "LOCLIST_LOCAL set of 33 → ETOOMANYLOCATORS");
	CHECK("R15", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, 32 * sizeof(struct shim_locator)), EINVALIDLOCATOR), "32 locators: the size is accepted (then EINVALIDLOCATOR for unknown ones)");

	// R6: shim_locator field rules; lc_addr in network order.
	len = sizeof(list);
	getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len);
	int found = 0;
	for (int i = 0; i < npeer; i++)
		if (list[i].lc_family == AF_INET6 && !memcmp(&list[i].lc_addr, &peer, 16))
			found = 1;
	CHECK("R6", found, "lc_addr in network order, lc_family AF_INET6 (the peer's ULID is in Ls(peer) as inet_pton writes it)");
	struct shim_locator bad = loc(peer2, 0, 0);
	bad.lc_proto = IPPROTO_TCP;
	CHECK("R6", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &bad, sizeof(bad)), EINVAL), "lc_proto neither 0 nor IPPROTO_UDP: EINVAL");
	bad = loc(peer2, 0, 0);
	bad.lc_family = 0;
	CHECK("R6", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &bad, sizeof(bad)), EINVAL), "lc_family 0: EINVAL");
	bad.lc_family = AF_INET;
	CHECK("R6", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &bad, sizeof(bad)), EINVAL), "AF_INET locator not IPv4-mapped: EINVAL");
	bad.lc_addr = addr("::ffff:192.0.2.1");
	CHECK("R6", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &bad, sizeof(bad)), EINVALIDLOCATOR), "AF_INET IPv4-mapped locator: a HIP locator, EINVALIDLOCATOR for Shim6");
	bad = loc(local2, 0, 0);
	bad.lc_proto = IPPROTO_UDP;
	CHECK("R6", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &bad, sizeof(bad)), EINVALIDLOCATOR), "lc_proto IPPROTO_UDP (NAT): EINVALIDLOCATOR for Shim6");

	// R7: path exploration.
	struct shim_pathexplore pe = { 4, 10, 0, 500, 1 };
	CHECK("R7", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)), EINVAL), "pe_reserved not zero: EINVAL");
	pe.pe_reserved = 0;
	len = sizeof(pe);
	CHECK("R7", setsockopt(tcp, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)) == 0 && getsockopt(tcp, SOL_SHIM, SHIM_PATHEXPLORE, &pe, &len) == 0 &&
	      pe.pe_keepaliveto == 10 && pe.pe_initprobeto == 500 && pe.pe_probenum == 4 && pe.pe_reserved == 0,
	      "PATHEXPLORE {4, 10 s, 500 ms} as RFC 5534 values: read back");
	CHECK("M-PATHEXPLORE-other", pe.pe_keepaliveint > 0 && pe.pe_keepaliveint < pe.pe_keepaliveto, "pe_keepaliveint below pe_keepaliveto (%u < %u)", pe.pe_keepaliveint, pe.pe_keepaliveto);
	CHECK("M-APP_TIMEOUT-other", geti(tcp, SHIM_APP_TIMEOUT) == 10, "SHIM_APP_TIMEOUT follows pe_keepaliveto (one Send Timeout)");
	CHECK("M-APP_TIMEOUT-other", seti(tcp, SHIM_APP_TIMEOUT, 0) == 0 && geti(tcp, SHIM_APP_TIMEOUT) == 0, "SHIM_APP_TIMEOUT 0: REAP's default again");

	// R13 / R14: unknown locators.
	struct shim_locator l = loc(unknown_local, 0, 0);
	CHECK("R13", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &l, sizeof(l)), EINVALIDLOCATOR), "SHIM_LOC_LOCAL_SEND of an address on no interface: EINVALIDLOCATOR");
	CHECK("M-LOC_LOCAL_SEND-EINVALIDLOCATOR", errno == EINVALIDLOCATOR, "LOC_LOCAL_SEND unknown → EINVALIDLOCATOR");
	CHECK("M-LOC_LOCAL_PREF-EINVALIDLOCATOR", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &l, sizeof(l)), EINVALIDLOCATOR), "LOC_LOCAL_PREF unknown → EINVALIDLOCATOR");
	CHECK("M-LOCLIST_LOCAL-EINVALIDLOCATOR", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_LOCAL, &l, sizeof(l)), EINVALIDLOCATOR), "LOCLIST_LOCAL with an unknown locator → EINVALIDLOCATOR");
	l = loc(not_hba, 0, 0);
	CHECK("R13", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &l, sizeof(l)), EINVALIDLOCATOR),
	      "a host address outside the HBA set (cannot join Ls(local)): EINVALIDLOCATOR");
	l = loc(unknown_peer, 0, 0);
	CHECK("R14", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &l, sizeof(l)), EINVALIDLOCATOR), "SHIM_LOC_PEER_PREF of an unknown destination locator: rejected, EINVALIDLOCATOR");
	CHECK("M-LOC_PEER_PREF-EINVALIDLOCATOR", errno == EINVALIDLOCATOR, "LOC_PEER_PREF unknown → EINVALIDLOCATOR");
	CHECK("M-LOC_PEER_SEND-EINVALIDLOCATOR", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &l, sizeof(l)), EINVALIDLOCATOR), "LOC_PEER_SEND unknown → EINVALIDLOCATOR");
	CHECK("M-LOCLIST_PEER-EINVALIDLOCATOR", FAILS(setsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, &l, sizeof(l)), EINVALIDLOCATOR), "LOCLIST_PEER with an unknown locator → EINVALIDLOCATOR");
	CHECK("R14", FAILS(send_pinned(udp, unknown_peer), EINVALIDLOCATOR), "sendmsg SHIM_LOC_PEER_SEND of an unknown locator: EINVALIDLOCATOR");

	// Table 2 send side: its cells.
	CHECK("M-SENDMSG-uncon", FAILS(send_feedback(unc, SHIM_FB_UNABLE, 0, -1), EOPNOTSUPP), "sendmsg SOL_SHIM cmsg on an unconnected socket: EOPNOTSUPP");
	CHECK("M-SENDMSG-noctx", FAILS(send_feedback(noctx, SHIM_FB_UNABLE, 0, -1), ENOENT), "sendmsg SHIM_FEEDBACK without a context: ENOENT");
	CHECK("M-SENDMSG-noctx", FAILS(send_pinned(noctx, peer2), ENOENT), "sendmsg SHIM_LOC_PEER_SEND without a context: ENOENT");
	CHECK("M-SENDMSG-other", send_pinned(udp, peer2) == 16, "sendmsg SHIM_LOC_PEER_SEND of a verified locator: sent");

	// R12 (application beats peer): the application's preference is the one in force.
	l = loc(peer2, 7, 3);
	CHECK("M-LOC_PEER_PREF-other", setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &l, sizeof(l)) == 0, "LOC_PEER_PREF of a known locator");
	len = sizeof(list);
	found = 0;
	if (getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len) == 0)
		for (size_t i = 0; i < len / sizeof(struct shim_locator); i++)
			if (!memcmp(&list[i].lc_addr, &peer2, 16) && list[i].lc_prio == 7 && list[i].lc_weight == 3)
				found = 1;
	CHECK("R12", found, "application preferences supersede the peer's (Ls(peer) shows prio 7 weight 3)");
	l = loc(peer, 0, 500);
	struct shim_locator got;
	len = sizeof(got);
	CHECK("M-LOC_PEER_PREF-other", setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &l, sizeof(l)) == 0 &&
	      getsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_PREF, &got, &len) == 0 && !memcmp(&got.lc_addr, &peer, 16) && got.lc_weight == 500,
	      "LOC_PEER_PREF get: the most preferred peer locator");
	l = loc(local, 0, 500);
	CHECK("M-LOC_LOCAL_PREF-other", setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &l, sizeof(l)) == 0, "LOC_LOCAL_PREF of Ls(local)");

	// R9: a zero-filled locator clears SHIM_LOC_*_SEND.
	struct shim_locator zero;
	memset(&zero, 0, sizeof(zero));
	l = loc(peer2, 0, 0);
	len = sizeof(got);
	CHECK("R9", setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &l, sizeof(l)) == 0 && getsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &got, &len) == 0 &&
	      !memcmp(&got.lc_addr, &peer2, 16), "SHIM_LOC_PEER_SEND set, read back");
	len = sizeof(got);
	CHECK("R9", setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &zero, sizeof(zero)) == 0 && getsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &got, &len) == 0 &&
	      got.lc_family == 0 && is_zero(&got.lc_addr, 16), "a zero-filled locator inactivates it");
	CHECK("M-LOC_PEER_SEND-other", 1, "LOC_PEER_SEND set/get/clear (above)");

	// R8: feedback 0 is not processed, fb_reserved is ignored (the test reads REAP's history).
	step("fb-before");
	CHECK("R8", send_feedback(tcp, SHIM_FB_DEFAULT, 0, -1) == 16, "SHIM_FEEDBACK indicator 0 accepted");
	step("fb-after0");
	CHECK("R8", send_feedback(tcp, SHIM_FB_UNABLE, 0xffff, -1) == 16, "SHIM_FEEDBACK indicator 1 with fb_reserved 0xffff accepted");
	step("fb-after1");

	// R12 (SEND supersedes PREF): PREF names path 1 as best, SEND pins path 2 → the data leaves on path 2.
	l = loc(peer2, 0, 0);
	struct shim_locator l2 = loc(local2, 0, 0);
	CHECK("R12", setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &l, sizeof(l)) == 0 && setsockopt(tcp, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &l2, sizeof(l2)) == 0,
	      "SHIM_LOC_*_SEND pinned to path 2 while SHIM_LOC_*_PREF prefer path 1");
	CHECK("M-LOC_LOCAL_SEND-other", 1, "LOC_LOCAL_SEND of Ls(local) (above)");
	step("wire-start");
	memset(buf, 0x5a, sizeof(buf));
	size_t sent = 0, got_back = 0;
	for (int i = 0; i < 200; i++) {
		ssize_t w = write(tcp, buf, sizeof(buf));
		if (w > 0)
			sent += (size_t)w;
	}
	while (got_back < sent) {
		ssize_t r = read(tcp, buf, sizeof(buf));
		if (r <= 0)
			break;
		got_back += (size_t)r;
	}
	CHECK("R12", got_back >= sent, "%zu bytes sent and echoed", sent);
	printf("step wire-done bytes=%zu\n", sent);
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof(line), stdin))
		return failures;

	close(tcp);
	close(udp);
	close(unc);
	close(noctx);
	printf("step end failures=%d checks=%d\n", failures, n);
	fflush(stdout);
	return failures;
}
