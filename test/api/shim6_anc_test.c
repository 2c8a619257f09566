// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_anc_test: RFC 6316 Table 2 (ancillary data) through libshim6 against
// a real agent (test/netns/api-ancillary.test.ts runs it in host A's
// namespace, B runs a UDP echo). Plain sendmsg()/recvmsg() calls: the
// program is linked with -lshim6, whose interposer routes SOL_SHIM.
//
//   shim6_anc_test PEER_ULID LOCAL_ULID PORT PEER_LOC2 LOCAL_LOC2
//
// The test drives it over stdin/stdout: each step prints one line
// "step NAME k=v ..." and waits for a line before the next, so the test can
// count bytes on the interfaces around it and change things in between.
// Checks print TAP-like lines; the exit status is the number of failures.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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
	else { failures++; printf("not ok %d - ", n); printf(__VA_ARGS__); printf(" (errno %d %s)\n", errno, shim_strerror(errno)); } \
	fflush(stdout); \
} while (0)

static void die(const char *what) { perror(what); exit(100); }

static void wait_line(void)
{
	char buf[64];
	if (!fgets(buf, sizeof(buf), stdin))
		exit(failures);
}

/* Throw away echoes still queued (a burst's). */
static void drain(int s)
{
	char buf[2048];
	while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static struct in6_addr addr(const char *s)
{
	struct in6_addr a;
	if (inet_pton(AF_INET6, s, &a) != 1)
		die(s);
	return a;
}

static const char *text(const struct in6_addr *a, char *buf)
{
	return inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

/* Send one datagram and read the echo with recvmsg() into ctl (cap bytes); 0 or -1. */
static int echo(int s, char *ctl, size_t cap, struct msghdr *mh)
{
	static char data[2048];
	static struct iovec iov;
	if (send(s, "x", 1, 0) != 1)
		return -1;
	iov.iov_base = data;
	iov.iov_len = sizeof(data);
	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = &iov;
	mh->msg_iovlen = 1;
	mh->msg_control = ctl;
	mh->msg_controllen = cap;
	return recvmsg(s, mh, 0) > 0 ? 0 : -1;
}

/* The SOL_SHIM cmsgs of a received message: local and peer locators (zero when absent), how many. */
static int shim_cmsgs(struct msghdr *mh, struct sockaddr_in6 *local, struct sockaddr_in6 *peer)
{
	int k = 0;
	memset(local, 0, sizeof(*local));
	memset(peer, 0, sizeof(*peer));
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SHIM || c->cmsg_len != CMSG_LEN(sizeof(struct sockaddr_in6)))
			continue;
		if (c->cmsg_type == SHIM_LOC_LOCAL_RECV)
			memcpy(local, CMSG_DATA(c), sizeof(*local)), k++;
		else if (c->cmsg_type == SHIM_LOC_PEER_RECV)
			memcpy(peer, CMSG_DATA(c), sizeof(*peer)), k++;
	}
	return k;
}

/* sendmsg() of len bytes with SOL_SHIM cmsgs: pins (NULL: none) and feedback (indicator < 0: none). */
static ssize_t send_anc(int s, size_t len, const struct in6_addr *local, const struct in6_addr *peer, int indicator)
{
	static char data[1500];
	union { char buf[3 * CMSG_SPACE(sizeof(struct sockaddr_in6))]; struct cmsghdr align; } u;
	struct iovec iov = { data, len };
	struct msghdr mh;
	memset(&u, 0, sizeof(u));
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	size_t used = 0;
	const struct in6_addr *pins[2] = { local, peer };
	for (int i = 0; i < 2; i++) {
		if (!pins[i])
			continue;
		struct sockaddr_in6 sa;
		memset(&sa, 0, sizeof(sa));
		sa.sin6_family = AF_INET6;
		sa.sin6_addr = *pins[i];
		c->cmsg_level = SOL_SHIM;
		c->cmsg_type = i == 0 ? SHIM_LOC_LOCAL_SEND : SHIM_LOC_PEER_SEND;
		c->cmsg_len = CMSG_LEN(sizeof(sa));
		memcpy(CMSG_DATA(c), &sa, sizeof(sa));
		used += CMSG_SPACE(sizeof(sa));
		c = (struct cmsghdr *)(u.buf + used);
	}
	if (indicator >= 0) {
		struct shim_feedback fb = { SHIM_FB_OUTBOUND, (uint8_t)indicator, 0 };
		c->cmsg_level = SOL_SHIM;
		c->cmsg_type = SHIM_FEEDBACK;
		c->cmsg_len = CMSG_LEN(sizeof(fb));
		memcpy(CMSG_DATA(c), &fb, sizeof(fb));
		used += CMSG_SPACE(sizeof(fb));
	}
	mh.msg_controllen = used;
	return sendmsg(s, &mh, 0);
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: %s PEER_ULID LOCAL_ULID PORT PEER_LOC2 LOCAL_LOC2\n", argv[0]);
		return 100;
	}
	struct in6_addr peer_ulid = addr(argv[1]), local_ulid = addr(argv[2]), peer2 = addr(argv[4]), local2 = addr(argv[5]);
	struct sockaddr_in6 to, from;
	memset(&to, 0, sizeof(to));
	memset(&from, 0, sizeof(from));
	to.sin6_family = from.sin6_family = AF_INET6;
	to.sin6_addr = peer_ulid;
	to.sin6_port = htons((uint16_t)atoi(argv[3]));
	from.sin6_addr = local_ulid;
	int s = socket(AF_INET6, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&from, sizeof(from)) < 0 || connect(s, (struct sockaddr *)&to, sizeof(to)) < 0)
		die("udp");
	struct timeval tv = { 1, 0 };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char ctl[512], a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
	struct msghdr mh;
	struct sockaddr_in6 lr, pr;
	int one = 1, v = -1;
	socklen_t len = sizeof(v);

	// Traffic until the context is there (deferred setup, RFC 5533 §7.7).
	for (int i = 0; i < 100; i++) {
		len = sizeof(v);
		if (getsockopt(s, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && v == 1)
			break;
		echo(s, ctl, 0, &mh);
		usleep(100000);
	}
	CHECK(v == 1, "SHIM_ASSOCIATED = 1 on the connected UDP socket");

	// Rule 1/4 (Table 2): nothing asked for, nothing delivered.
	CHECK(echo(s, ctl, sizeof(ctl), &mh) == 0 && shim_cmsgs(&mh, &lr, &pr) == 0, "recvmsg: no SOL_SHIM cmsg before SHIM_LOC_*_RECV");
	CHECK(setsockopt(s, SOL_SHIM, SHIM_LOC_LOCAL_RECV, &one, sizeof(one)) == 0, "SHIM_LOC_LOCAL_RECV = 1");
	CHECK(setsockopt(s, SOL_SHIM, SHIM_LOC_PEER_RECV, &one, sizeof(one)) == 0, "SHIM_LOC_PEER_RECV = 1");
	CHECK(echo(s, ctl, sizeof(ctl), &mh) == 0 && shim_cmsgs(&mh, &lr, &pr) == 2, "recvmsg: SHIM_LOC_LOCAL_RECV and SHIM_LOC_PEER_RECV, one sockaddr_in6 each");
	CHECK(lr.sin6_family == AF_INET6 && pr.sin6_family == AF_INET6 && !(mh.msg_flags & MSG_CTRUNC), "cmsgs carry AF_INET6 addresses");
	printf("step recv1 local=%s peer=%s\n", text(&lr.sin6_addr, a1), text(&pr.sin6_addr, a2));
	fflush(stdout);
	wait_line();
	// No room: MSG_CTRUNC, and the data still arrives.
	CHECK(echo(s, ctl, CMSG_SPACE(sizeof(struct sockaddr_in6)), &mh) == 0 && (mh.msg_flags & MSG_CTRUNC) && shim_cmsgs(&mh, &lr, &pr) == 1,
	      "recvmsg with room for one cmsg: the first, and MSG_CTRUNC");

	// Table 2 send side, errors (§7.2, §14.1).
	struct in6_addr unknown = addr("2001:db8:ff::99");
	errno = 0;
	CHECK(send_anc(s, 100, NULL, &unknown, -1) < 0 && errno == EINVALIDLOCATOR, "sendmsg SHIM_LOC_PEER_SEND unknown locator: EINVALIDLOCATOR");
	errno = 0;
	CHECK(send_anc(s, 100, &unknown, NULL, -1) < 0 && errno == EINVALIDLOCATOR, "sendmsg SHIM_LOC_LOCAL_SEND not a host address: EINVALIDLOCATOR");

	// One datagram at a time on path 2, counted by the test on the interfaces.
	printf("step pinned\n");
	fflush(stdout);
	wait_line();
	int ok = 1;
	for (int i = 0; i < 300; i++)
		if (send_anc(s, 1000, &local2, &peer2, -1) != 1000)
			ok = 0;
	CHECK(ok, "300 sendmsg() with SHIM_LOC_LOCAL_SEND + SHIM_LOC_PEER_SEND");
	printf("step pinned-done bytes=300000\n");
	fflush(stdout);
	wait_line();
	// The pins held for their datagram only: plain sends are back on the context's pair.
	ok = 1;
	for (int i = 0; i < 300; i++)
		if (send(s, ctl, 1000, 0) != 1000)
			ok = 0;
	CHECK(ok, "300 plain send()");
	printf("step plain-done bytes=300000\n");
	fflush(stdout);
	wait_line();
	len = sizeof(struct shim_locator);
	struct shim_locator sl;
	CHECK(getsockopt(s, SOL_SHIM, SHIM_LOC_PEER_SEND, &sl, &len) == 0 && sl.lc_family == 0, "SHIM_LOC_PEER_SEND option still unset (zero-filled)");

	// SHIM_FEEDBACK reaches REAP (the test reads the context's REAP history).
	CHECK(send_anc(s, 10, NULL, NULL, SHIM_FB_UNABLE) == 10, "sendmsg SHIM_FEEDBACK (outbound, unable)");
	printf("step feedback\n");
	fflush(stdout);
	wait_line();

	// The peer moved its side (the test set B's pair): the next datagram arrives on path 2.
	drain(s);
	for (int i = 0; i < 20; i++) {
		if (echo(s, ctl, sizeof(ctl), &mh) == 0 && shim_cmsgs(&mh, &lr, &pr) == 2 && !memcmp(&pr.sin6_addr, &peer2, 16))
			break;
		usleep(100000);
	}
	CHECK(!memcmp(&pr.sin6_addr, &peer2, 16) && !memcmp(&lr.sin6_addr, &local2, 16), "recvmsg: the locators the latest datagram arrived on");
	printf("step recv2 local=%s peer=%s\n", text(&lr.sin6_addr, a1), text(&pr.sin6_addr, a2));
	fflush(stdout);
	wait_line();
	close(s);
	printf("step end failures=%d\n", failures);
	fflush(stdout);
	return failures;
}
