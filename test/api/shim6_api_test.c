// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_api_test: libshim6 against a running API server (test/unit/api/
// libshim6.test.ts starts one with a fake backend that gives every connected
// TCP socket a context with the locators below, and UDP sockets none).
// Prints TAP-like lines; the exit status is the number of failures.
// Built twice: linked with -lshim6, and without it (-DPRELOADED) to run under
// LD_PRELOAD=libshim6.so, where only the plain socket calls are used.
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

#define CHECK(cond, ...) do { \
	n++; \
	if (cond) { printf("ok %d - ", n); printf(__VA_ARGS__); printf("\n"); } \
	else { failures++; printf("not ok %d - ", n); printf(__VA_ARGS__); printf(" (errno %d)\n", errno); } \
} while (0)

/* -1 with this errno? */
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
	/* SHIM_DONTSHIM before connect() is allowed (§6.2). */
	int one = 1;
	CHECK(setsockopt(c, SOL_SHIM, SHIM_DONTSHIM, &one, sizeof(one)) == 0, "DONTSHIM set 1 before connect()");
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK(getsockopt(c, SOL_SHIM, SHIM_DONTSHIM, &v, &vl) == 0 && v == 1 && vl == sizeof(int), "DONTSHIM reads back 1");
	int zero = 0;
	CHECK(setsockopt(c, SOL_SHIM, SHIM_DONTSHIM, &zero, sizeof(zero)) == 0, "DONTSHIM set 0 again before connect()");
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	*acc = accept(l, NULL, NULL);
	*srv = l;
	return c;
}

static int udp(int do_connect)
{
	struct sockaddr_in6 sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	sa.sin6_port = htons(9);
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s < 0)
		die("socket");
	if (do_connect && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect udp");
	return s;
}

static struct shim_locator locator(const char *addr)
{
	struct shim_locator lc;
	memset(&lc, 0, sizeof(lc));
	lc.lc_family = AF_INET6;
	if (inet_pton(AF_INET6, addr, &lc.lc_addr) != 1)
		die("inet_pton");
	return lc;
}

int main(void)
{
	int l, acc;
	int tcp = tcp_pair(&l, &acc);
	int u = udp(1), uu = udp(0);
	int v;
	socklen_t len;

	/* SHIM_ASSOCIATED on the three kinds of socket. */
	len = sizeof(v);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 1, "ASSOCIATED = 1 on a TCP socket with a context (got %d)", v);
	len = sizeof(v);
	CHECK(getsockopt(u, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 0, "ASSOCIATED = 0 on a connected UDP socket without one");
	len = sizeof(v);
	CHECK(getsockopt(uu, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 2, "ASSOCIATED = 2 on an unconnected socket");

	/* Error matrix. */
	len = sizeof(v);
	CHECK(FAILS_WITH(getsockopt(u, SOL_SHIM, SHIM_HOT_STANDBY, &v, &len), ENOENT), "HOT_STANDBY without a context: ENOENT");
	struct shim_locator lc;
	len = sizeof(lc);
	CHECK(FAILS_WITH(getsockopt(uu, SOL_SHIM, SHIM_LOC_PEER_SEND, &lc, &len), EOPNOTSUPP), "LOC_PEER_SEND on an unconnected socket: EOPNOTSUPP");
	int one = 1;
	CHECK(FAILS_WITH(setsockopt(tcp, SOL_SHIM, SHIM_DONTSHIM, &one, sizeof(one)), EOPNOTSUPP), "DONTSHIM set 1 on a connected socket: EOPNOTSUPP");
	len = sizeof(v);
	CHECK(FAILS_WITH(getsockopt(tcp, SOL_SHIM, 99, &v, &len), ENOPROTOOPT), "unknown option: ENOPROTOOPT");
	short s16 = 1;
	CHECK(FAILS_WITH(setsockopt(tcp, SOL_SHIM, SHIM_HOT_STANDBY, &s16, sizeof(s16)), EINVAL), "int option with a 2-byte value: EINVAL");
	len = sizeof(v);
	CHECK(FAILS_WITH(getsockopt(-1, SOL_SHIM, SHIM_ASSOCIATED, &v, &len), EBADF), "a bad fd: EBADF");

	/* Locator lists. */
	struct shim_locator list[SHIM_MAX_LOCATORS];
	len = sizeof(list);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len) == 0 && len == 3 * sizeof(struct shim_locator), "LOCLIST_PEER: 3 locators (len %u)", (unsigned)len);
	char text[INET6_ADDRSTRLEN] = "";
	inet_ntop(AF_INET6, &list[1].lc_addr, text, sizeof(text));
	CHECK(!strcmp(text, "2001:db8:1:b::1") && list[1].lc_prio == 1 && list[1].lc_weight == 10 && list[1].lc_flags == SHIM_LOC_FLAG_HBA,
	      "LOCLIST_PEER[1] = %s prio %u weight %u flags %u", text, list[1].lc_prio, list[1].lc_weight, list[1].lc_flags);
	len = 2 * sizeof(struct shim_locator);
	CHECK(FAILS_WITH(getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len), ETOOMANYLOCATORS), "LOCLIST_PEER into a buffer for 2: ETOOMANYLOCATORS");

	/* SHIM_LOC_PEER_SEND: verified, unverified, cleared. */
	lc = locator("2001:db8:1:b::1");
	CHECK(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &lc, sizeof(lc)) == 0, "LOC_PEER_SEND on a verified locator");
	struct shim_locator got;
	memset(&got, 0, sizeof(got));
	len = sizeof(got);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &got, &len) == 0 && len == sizeof(got) && !memcmp(&got.lc_addr, &lc.lc_addr, 16),
	      "LOC_PEER_SEND reads back the forced locator");
	lc = locator("2001:db8:2:b::1");
	errno = 0;
	int r = setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &lc, sizeof(lc));
	CHECK(r == -1 && errno == EUNVERIFIEDLOCATOR, "LOC_PEER_SEND on an unverified locator: EUNVERIFIEDLOCATOR");
#ifndef PRELOADED
	CHECK(!strcmp(shim_strerror(EUNVERIFIEDLOCATOR), "Locator not verified"), "shim_strerror(EUNVERIFIEDLOCATOR)");
	CHECK(!strcmp(shim_strerror(ENOENT), strerror(ENOENT)), "shim_strerror falls back to strerror");
#endif
	lc = locator("2001:db8:7::1");
	CHECK(FAILS_WITH(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &lc, sizeof(lc)), EINVALIDLOCATOR), "LOC_PEER_SEND on an unknown locator: EINVALIDLOCATOR");
	memset(&lc, 0, sizeof(lc));
	CHECK(setsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &lc, sizeof(lc)) == 0, "a zero-filled LOC_PEER_SEND clears it");
	len = sizeof(got);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_LOC_PEER_SEND, &got, &len) == 0 && got.lc_family == 0, "LOC_PEER_SEND reads back zero-filled");

	/* SHIM_PATHEXPLORE and SHIM_APP_TIMEOUT. */
	struct shim_pathexplore pe;
	memset(&pe, 0, sizeof(pe));
	pe.pe_probenum = 4;
	pe.pe_keepaliveto = 10;
	pe.pe_keepaliveint = 3;
	pe.pe_initprobeto = 500;
	CHECK(setsockopt(tcp, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)) == 0, "PATHEXPLORE set");
	len = sizeof(v);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_APP_TIMEOUT, &v, &len) == 0 && v == 10, "APP_TIMEOUT follows pe_keepaliveto (%d)", v);
	pe.pe_reserved = 1;
	CHECK(FAILS_WITH(setsockopt(tcp, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)), EINVAL), "PATHEXPLORE with pe_reserved set: EINVAL");
	len = sizeof(v);
	CHECK(getsockopt(tcp, SOL_SHIM, SHIM_DEFERRED_CONTEXT_SETUP, &v, &len) == 0 && v == 1, "DEFERRED_CONTEXT_SETUP = 1");

	/* Other levels are the C library's. */
	len = sizeof(v);
	CHECK(getsockopt(tcp, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SOL_SOCKET SO_TYPE passes to libc");
	CHECK(setsockopt(tcp, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0, "SOL_SOCKET SO_KEEPALIVE passes to libc");
	len = sizeof(v);
	CHECK(FAILS_WITH(getsockopt(tcp, 4242, 1, &v, &len), ENOPROTOOPT), "an unknown level still gets libc's ENOPROTOOPT");

	/* sendmsg/recvmsg: plain ones pass; SOL_SHIM cmsgs go to the agent first. */
	char msg[] = "hi";
	struct iovec iov = { msg, 2 };
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	CHECK(sendmsg(tcp, &mh, 0) == 2, "sendmsg without SOL_SHIM cmsgs");
	char in[8];
	struct iovec iiov = { in, sizeof(in) };
	struct msghdr rh;
	memset(&rh, 0, sizeof(rh));
	rh.msg_iov = &iiov;
	rh.msg_iovlen = 1;
	CHECK(recvmsg(acc, &rh, 0) == 2 && !memcmp(in, "hi", 2), "recvmsg passes through");
	union { char b[CMSG_SPACE(sizeof(struct shim_feedback))]; struct cmsghdr a; } cb;
	memset(&cb, 0, sizeof(cb));
	mh.msg_control = cb.b;
	mh.msg_controllen = sizeof(cb.b);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SHIM;
	cm->cmsg_type = SHIM_FEEDBACK;
	cm->cmsg_len = CMSG_LEN(sizeof(struct shim_feedback));
	struct shim_feedback fb = { SHIM_FB_OUTBOUND, SHIM_FB_UNSATISFACTORY, 0 };
	memcpy(CMSG_DATA(cm), &fb, sizeof(fb));
	CHECK(sendmsg(tcp, &mh, 0) == 2, "sendmsg with SHIM_FEEDBACK: taken by the agent, the data sent without it");
	CHECK(recv(acc, in, sizeof(in), 0) == 2 && !memcmp(in, "hi", 2), "the datagram arrived");
	CHECK(FAILS_WITH(sendmsg(u, &mh, 0), ENOENT), "SHIM_FEEDBACK without a context: ENOENT");
	union { char b[CMSG_SPACE(sizeof(struct sockaddr_in6))]; struct cmsghdr a; } cs;
	memset(&cs, 0, sizeof(cs));
	mh.msg_control = cs.b;
	mh.msg_controllen = sizeof(cs.b);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SHIM;
	cm->cmsg_type = SHIM_LOC_PEER_SEND;
	cm->cmsg_len = CMSG_LEN(sizeof(struct sockaddr_in6));
	CHECK(FAILS_WITH(sendmsg(tcp, &mh, 0), EOPNOTSUPP), "SHIM_LOC_PEER_SEND ancillary data: EOPNOTSUPP (not yet)");

	/* No agent: ENOPROTOOPT, as without the shim. */
	setenv("SHIM6_API_SOCKET", "/nonexistent/shim6/api.sock", 1);
	len = sizeof(v);
	CHECK(FAILS_WITH(getsockopt(tcp, SOL_SHIM, SHIM_ASSOCIATED, &v, &len), ENOPROTOOPT), "no agent: ENOPROTOOPT");

	close(tcp);
	close(acc);
	close(l);
	close(u);
	close(uu);
	printf("%d tests, %d failures\n", n, failures);
	return failures;
}
