// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// The example code of RFC 6316 §6 and §8.1.1, as printed, with its typos
// corrected (each correction is marked "RFC:"). It must compile against
// <shim6/shim.h> with -Wall -Werror; test/unit/api/libshim6.test.ts also runs
// it against the test API server, where every example that should succeed
// on a TCP socket with a context does.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <shim6/shim.h>

/* §6.1 */
static int ex_associated(int fd)
{
	int optval;
	socklen_t optlen = sizeof(optval);   /* RFC: "int optlen" (getsockopt takes socklen_t *) */
	return getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &optval, &optlen);
}

/* §6.2 (set on an unconnected socket; the get works anywhere) */
static int ex_dontshim(int fd, int set)
{
	int optval;
	socklen_t len;                       /* RFC: "int len" */
	if (set) {
		optval = 1;
		return setsockopt(fd, SOL_SHIM, SHIM_DONTSHIM, &optval, sizeof(optval));
	}
	len = sizeof(optval);
	return getsockopt(fd, SOL_SHIM, SHIM_DONTSHIM, &optval, &len);
}

/* §6.3 */
static int ex_hot_standby(int fd)
{
	int optval;
	socklen_t len;
	optval = 1;
	if (setsockopt(fd, SOL_SHIM, SHIM_HOT_STANDBY, &optval, sizeof(optval)) < 0)
		return -1;
	len = sizeof(optval);
	return getsockopt(fd, SOL_SHIM, SHIM_HOT_STANDBY, &optval, &len);
}

/* §6.4 (and §6.5: "the same as SHIM_LOC_LOCAL_PREF") */
static int ex_loc_local_pref(int fd, struct in6_addr ip6)
{
	struct shim_locator lc;
	socklen_t len;
	/* ...set the locator (ip6)... */
	memset(&lc, 0, sizeof(struct shim_locator)); /* RFC: "sizeof(shim_locator)" (C needs the struct tag) */
	lc.lc_family = AF_INET6;  /* IPv6 */
	lc.lc_ifidx = 0;
	lc.lc_flags = 0;
	lc.lc_prio = 1;
	lc.lc_weight = 10;
	memcpy(&lc.lc_addr, &ip6, sizeof(struct in6_addr)); /* RFC: "sizeof(in6_addr)" */
	if (setsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &lc, sizeof(lc)) < 0) /* RFC: "sizeof(optval)" */
		return -1;
	len = sizeof(lc);
	return getsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_PREF, &lc, &len);
}

/* §6.6 (and §6.7) */
static int ex_loc_local_recv(int fd)
{
	int optval;
	socklen_t len;
	optval = 1;
	if (setsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_RECV, &optval, sizeof(optval)) < 0)
		return -1;
	len = sizeof(optval);
	return getsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_RECV, &optval, &len);
}

/* §6.8 (and §6.9) */
static int ex_loc_local_send(int fd, struct in6_addr ia6)
{
	struct shim_locator locator;
	socklen_t len;
	/* an IPv6 address preferred for the source locator is copied
	   to the parameter ia6 */
	memset(&locator, 0, sizeof(locator));
	/* fill shim_locator data structure */
	locator.lc_family = AF_INET6;
	locator.lc_ifidx = 0;
	locator.lc_flags = 0;
	locator.lc_prio = 0;
	locator.lc_weight = 0;
	memcpy(&locator.lc_addr, &ia6, sizeof(ia6));
	if (setsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &locator, sizeof(locator)) < 0)
		return -1;
	memset(&locator, 0, sizeof(locator));
	len = sizeof(locator);
	/* RFC: passes "sizeof(locator)" where getsockopt needs &len */
	if (getsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &locator, &len) < 0)
		return -1;
	/* check locator */
	return memcmp(&locator.lc_addr, &ia6, sizeof(ia6)) ? -1 : 0;
}

/* §6.10 set (and §6.11): IPv4 locators are HIP's, so this one is refused by Shim6. */
static int ex_loclist_local_set(int fd, const struct sockaddr_in6 *sin6, const struct sockaddr_in *sin)
{
	struct shim_locator locators[SHIM_MAX_LOCATORS];
	memset(locators, 0, sizeof(locators));
	/* first locator (an IPv6 address) */
	locators[0].lc_family = AF_INET6;
	locators[0].lc_ifidx = 0;
	locators[0].lc_flags = 0;
	locators[0].lc_prio = 1;
	locators[0].lc_weight = 0;
	memcpy(&locators[0].lc_addr, &sin6->sin6_addr, sizeof(sin6->sin6_addr)); /* RFC: "sa6->" (declared sin6) */
	/* second locator (an IPv4 address) */
	locators[1].lc_family = AF_INET;
	locators[1].lc_ifidx = 0;
	locators[1].lc_flags = 0;
	locators[1].lc_prio = 0;
	locators[1].lc_weight = 0;
	/* RFC: copies the raw 4-byte sin_addr; §8.1 says IPv4 MUST be IPv4-mapped */
	locators[1].lc_addr.s6_addr[10] = 0xff;
	locators[1].lc_addr.s6_addr[11] = 0xff;
	memcpy(&locators[1].lc_addr.s6_addr[12], &sin->sin_addr, sizeof(sin->sin_addr));
	/* RFC: passes the whole array; only the two filled entries are locators */
	return setsockopt(fd, SOL_SHIM, SHIM_LOCLIST_LOCAL, locators, 2 * sizeof(struct shim_locator));
}

/* §6.10 get */
static int ex_loclist_local_get(int fd)
{
	struct shim_locator locators[SHIM_MAX_LOCATORS];
	socklen_t len = sizeof(locators);
	memset(locators, 0, sizeof(locators));
	/* RFC: uses SHIM_LOC_LOCAL_RECV and "sizeof(locators)" for the length */
	if (getsockopt(fd, SOL_SHIM, SHIM_LOCLIST_LOCAL, locators, &len) < 0)
		return -1;
	/* parse locators */
	return (int)(len / sizeof(struct shim_locator));
}

/* §6.12 */
static int ex_app_timeout(int fd)
{
	int optval;
	socklen_t len;
	optval = 15; /* 15 seconds */
	if (setsockopt(fd, SOL_SHIM, SHIM_APP_TIMEOUT, &optval, sizeof(optval)) < 0)
		return -1;
	len = sizeof(optval);
	if (getsockopt(fd, SOL_SHIM, SHIM_APP_TIMEOUT, &optval, &len) < 0)
		return -1;
	return optval == 15 ? 0 : -1;
}

/* §6.13 */
static int ex_pathexplore(int fd)
{
	struct shim_pathexplore pe;  /* RFC: "struct shim6_pathexplore" */
	socklen_t len;
	memset(&pe, 0, sizeof(pe));  /* RFC: pe_keepaliveint is left uninitialised */
	pe.pe_probenum = 4;        /* times */
	pe.pe_keepaliveto = 10;    /* seconds */
	pe.pe_initprobeto = 500;   /* milliseconds */
	pe.pe_reserved = 0;
	if (setsockopt(fd, SOL_SHIM, SHIM_PATHEXPLORE, &pe, sizeof(pe)) < 0)
		return -1;
	len = sizeof(pe);
	return getsockopt(fd, SOL_SHIM, SHIM_PATHEXPLORE, &pe, &len);
}

/* §6.14 (both spellings of the option) */
static int ex_deferred(int fd)
{
	int optval;
	socklen_t len;
	len = sizeof(optval);
	if (getsockopt(fd, SOL_SHIM, SHIM_DEFERRED_CONTEXT_SETUP, &optval, &len) < 0)
		return -1;
	len = sizeof(optval);
	return getsockopt(fd, SOL_SHIM, SHIM_CONTEXT_DEFERRED_SETUP, &optval, &len);
}

/* §8.1.1 Figure 5: a locator behind a NAT (HIP over UDP); Shim6 refuses it. */
static int ex_nat(int fd, struct in6_addr ia6)
{
	struct shim_locator locator;
	/* copy the private IPv4 address to the ia6 as an IPv4-mapped
	   IPv6 address */
	memset(&locator, 0, sizeof(locator));
	/* fill shim_locator data structure */
	locator.lc_family = AF_INET;
	locator.lc_proto = IPPROTO_UDP;
	locator.lc_port = 50500;
	locator.lc_ifidx = 0;
	locator.lc_flags = 0;
	locator.lc_prio = 0;
	locator.lc_weight = 0;
	memcpy(&locator.lc_addr, &ia6, sizeof(ia6));
	return setsockopt(fd, SOL_SHIM, SHIM_LOC_LOCAL_SEND, &locator, sizeof(locator));
}

static int failures;

static void expect(const char *name, int r, int want_errno)
{
	int ok = want_errno ? (r == -1 && errno == want_errno) : r >= 0;
	printf("%s %s (r=%d errno=%d %s)\n", ok ? "ok" : "not ok", name, r, r < 0 ? errno : 0, r < 0 ? shim_strerror(errno) : "");
	failures += !ok;
}

/*
 * No arguments: a loopback TCP connection (the unit test's server gives it a
 * context). With PEER LOCAL PORT LOCAL_LOCATOR (test/netns/api-conformance
 * .test.ts, real agents): a TCP connection LOCAL -> PEER:PORT, traffic until
 * the shim has a context for it, and LOCAL_LOCATOR (one of this host's
 * locators) in the examples that name a local locator.
 */
int main(int argc, char **argv)
{
	struct sockaddr_in6 sa, from;
	socklen_t sl = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	memset(&from, 0, sizeof(from));
	sa.sin6_family = from.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	int l = -1;
	if (argc == 5) {
		if (inet_pton(AF_INET6, argv[1], &sa.sin6_addr) != 1 || inet_pton(AF_INET6, argv[2], &from.sin6_addr) != 1)
			return 100;
		sa.sin6_port = htons((uint16_t)atoi(argv[3]));
	} else {
		l = socket(AF_INET6, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 || getsockname(l, (struct sockaddr *)&sa, &sl) < 0)
			return 100;
	}
	int unconnected = socket(AF_INET6, SOCK_STREAM, 0);
	expect("6.2 DONTSHIM set (unconnected)", ex_dontshim(unconnected, 1), 0);
	expect("6.2 DONTSHIM get", ex_dontshim(unconnected, 0), 0);
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (argc == 5 && bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
		return 100;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 100;
	for (int i = 0; argc == 5 && i < 100; i++) {
		int v = 0;
		socklen_t vl = sizeof(v);
		char c;
		if (getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &v, &vl) == 0 && v == 1)
			break;
		if (write(fd, "x", 1) == 1)
			(void)!read(fd, &c, 1);
		usleep(50000);
	}
	struct in6_addr local;
	inet_pton(AF_INET6, argc == 5 ? argv[4] : "2001:db8:1:a::1", &local);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_addr = local;
	struct in6_addr mapped;
	inet_pton(AF_INET6, "::ffff:10.0.0.1", &mapped);

	expect("6.1 ASSOCIATED", ex_associated(fd), 0);
	expect("6.3 HOT_STANDBY", ex_hot_standby(fd), 0);
	expect("6.4 LOC_LOCAL_PREF", ex_loc_local_pref(fd, local), 0);
	expect("6.6 LOC_LOCAL_RECV", ex_loc_local_recv(fd), 0);
	expect("6.8 LOC_LOCAL_SEND", ex_loc_local_send(fd, local), 0);
	expect("6.10 LOCLIST_LOCAL set with an IPv4 locator", ex_loclist_local_set(fd, &sin6, &sin), EINVALIDLOCATOR);
	expect("6.10 LOCLIST_LOCAL get", ex_loclist_local_get(fd), 0);
	expect("6.12 APP_TIMEOUT", ex_app_timeout(fd), 0);
	expect("6.13 PATHEXPLORE", ex_pathexplore(fd), 0);
	expect("6.14 DEFERRED_CONTEXT_SETUP", ex_deferred(fd), 0);
	expect("8.1.1 NAT locator", ex_nat(fd, mapped), EINVALIDLOCATOR);
	close(fd);
	close(unconnected);
	if (l >= 0)
		close(l);
	return failures;
}
