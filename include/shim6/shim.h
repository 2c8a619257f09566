/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * shim6/shim.h — the RFC 6316 sockets API for the multihoming shim, as
 * implemented by shim6 (shim6d serves it; libshim6 routes SOL_SHIM calls to
 * it).
 *
 * RFC 6316 §12 leaves every number platform-specific. This header is the one
 * place they are defined; the TypeScript mirror (src/api/shim-h.ts) is tested
 * against it (test/unit/api/shim-h.test.ts). Values never change once
 * released: the agent and old binaries must keep agreeing.
 *
 *   SOL_SHIM   6316: outside Linux's SOL_* range (0..~300).
 *   options    1..14 in Table 1 order, SHIM_FEEDBACK 15 (cmsg type).
 *   errno      6317..6320: outside Linux's errno range (1..133 user, 512..530
 *              kernel-internal, MAX_ERRNO 4095), so they never collide with
 *              what the kernel or libc report; shim_strerror() names them.
 *
 * Usage (RFC 6316 §6): getsockopt(fd, SOL_SHIM, SHIM_ASSOCIATED, &v, &len)
 * with <shim6/shim.h> included and libshim6 linked (-lshim6) or preloaded
 * (LD_PRELOAD=libshim6.so). Byte order: lc_addr is in network order; every
 * other field (and every int option value) is in host order.
 */
#ifndef SHIM6_SHIM_H
#define SHIM6_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Socket option level and cmsg_level of the shim (RFC 6316 §6, §7). */
#define SOL_SHIM 6316

/* Table 1: socket options (level SOL_SHIM). */
#define SHIM_ASSOCIATED              1  /* get:  int 0/1, 2 = unknown (unconnected socket) */
#define SHIM_DONTSHIM                2  /* get/set: int 0/1; set 1 only before connect() */
#define SHIM_HOT_STANDBY             3  /* get/set: int 0/1 */
#define SHIM_LOC_LOCAL_PREF          4  /* get/set: struct shim_locator */
#define SHIM_LOC_PEER_PREF           5  /* get/set: struct shim_locator */
#define SHIM_LOC_LOCAL_RECV          6  /* get/set: int 0/1; also a cmsg_type (recvmsg) */
#define SHIM_LOC_PEER_RECV           7  /* get/set: int 0/1; also a cmsg_type (recvmsg) */
#define SHIM_LOC_LOCAL_SEND          8  /* get/set: struct shim_locator; also a cmsg_type (sendmsg) */
#define SHIM_LOC_PEER_SEND           9  /* get/set: struct shim_locator; also a cmsg_type (sendmsg) */
#define SHIM_LOCLIST_LOCAL          10  /* get/set: struct shim_locator[] */
#define SHIM_LOCLIST_PEER           11  /* get/set: struct shim_locator[] */
#define SHIM_APP_TIMEOUT            12  /* get/set: int seconds, 0 = REAP default */
#define SHIM_PATHEXPLORE            13  /* get/set: struct shim_pathexplore */
#define SHIM_CONTEXT_DEFERRED_SETUP 14  /* get:  int 0/1 */
/* RFC 6316 spells it both ways (Table 1 / §6.15 vs §6.14): both names work. */
#define SHIM_DEFERRED_CONTEXT_SETUP SHIM_CONTEXT_DEFERRED_SETUP

/* Table 2: ancillary data (cmsg_level SOL_SHIM). SHIM_LOC_*_RECV and
 * SHIM_LOC_*_SEND above are also cmsg types (one sockaddr_in6 or sockaddr_in
 * per cmsg). */
#define SHIM_FEEDBACK               15  /* sendmsg: struct shim_feedback */

/* Maximum number of locators in a locator list (RFC 6316 §13). */
#define SHIM_MAX_LOCATORS 32

/* lc_flags bits (RFC 6316 §8.1; the RFC gives values, not names). */
#define SHIM_LOC_FLAG_HBA 0x01
#define SHIM_LOC_FLAG_CGA 0x02

/* fb_direction and fb_indicator values (RFC 6316 §8.3). */
#define SHIM_FB_OUTBOUND       0
#define SHIM_FB_INBOUND        1
#define SHIM_FB_DEFAULT        0  /* MUST NOT be processed */
#define SHIM_FB_UNABLE         1  /* no unidirectional reachability */
#define SHIM_FB_UNSATISFACTORY 2
#define SHIM_FB_SATISFACTORY   3

/* New errno values (RFC 6316 §6.16; ETOOMANYLOCATORS is used by §6.10/6.11
 * but missing from §6.16's list). */
#define EINVALIDLOCATOR     6317  /* locator not valid for the context (not in its HBA set, unknown) */
#define EUNVERIFIEDLOCATOR  6318  /* peer locator's reachability not confirmed yet */
#define EUNREACHABLELOCATOR 6319  /* peer locator found unreachable */
#define ETOOMANYLOCATORS    6320  /* > SHIM_MAX_LOCATORS, or the caller's buffer is too small */

/* Figure 4. lc_addr in network byte order; IPv4 as ::ffff:a.b.c.d. */
struct shim_locator {
	uint8_t         lc_family;   /* AF_INET6 (AF_INET: HIP only), non-zero */
	uint8_t         lc_proto;    /* 0, or IPPROTO_UDP behind a NAT */
	uint16_t        lc_port;     /* NAT port */
	uint16_t        lc_prio;     /* priority: lower is preferred */
	uint16_t        lc_weight;   /* weight among equal priorities: higher is preferred */
	uint32_t        lc_ifidx;    /* interface index (local locators; ignored on set) */
	struct in6_addr lc_addr;     /* the locator */
	uint16_t        lc_flags;    /* SHIM_LOC_FLAG_* (ignored on set) */
};

/* Figure 6. */
struct shim_pathexplore {
	uint16_t pe_probenum;        /* number of initial probes */
	uint16_t pe_keepaliveto;     /* Keepalive Timeout, seconds (= SHIM_APP_TIMEOUT) */
	uint16_t pe_keepaliveint;    /* Keepalive Interval, seconds */
	uint16_t pe_initprobeto;     /* Initial Probe Timeout, milliseconds */
	uint32_t pe_reserved;        /* MUST be zero */
};

/* Figure 7. */
struct shim_feedback {
	uint8_t  fb_direction;       /* SHIM_FB_OUTBOUND / SHIM_FB_INBOUND */
	uint8_t  fb_indicator;       /* SHIM_FB_* indicator */
	uint16_t fb_reserved;        /* ignored */
};

/*
 * Context events: a shim6 extension beyond RFC 6316 (in the spirit of SCTP's
 * SCTP_PEER_ADDR_CHANGE). shim6_subscribe(fd) returns a descriptor that
 * becomes readable (poll/epoll) when the context of fd's ULID pair changes;
 * shim6_read_event() reads one struct shim6_event from it. close() it to
 * unsubscribe. fd must be connected; it need not have a context yet:
 * subscribe first, then read SHIM_ASSOCIATED, and nothing falls between.
 */
#define SHIM_EVENT_ESTABLISHED    1  /* the context is established; ev_local/ev_peer: the pair in use */
#define SHIM_EVENT_PAIR_CHANGED   2  /* traffic moved to a new locator pair: ev_local/ev_peer */
#define SHIM_EVENT_PATH_FAILED    3  /* the pair in use failed (REAP is exploring): ev_local/ev_peer */
#define SHIM_EVENT_PATH_RECOVERED 4  /* a working pair again: ev_local/ev_peer */
#define SHIM_EVENT_LOST           5  /* the context is gone */
#define SHIM_EVENT_BIT(t)         (1u << (t))
#define SHIM_EVENT_ALL            0x3eu  /* every type above */

struct shim6_event {
	uint32_t            ev_type;        /* SHIM_EVENT_* */
	uint32_t            ev_fii;         /* Forked Instance Identifier (0: the default context) */
	struct in6_addr     ev_ulid_local;  /* the context's ULID pair (network order) */
	struct in6_addr     ev_ulid_peer;
	struct shim_locator ev_local;       /* the locator pair the event names (lc_family AF_INET6, */
	struct shim_locator ev_peer;        /* lc_addr); zero-filled when it names none */
	uint32_t            ev_dropped;     /* events lost before this one (read too slowly) */
	uint32_t            ev_reserved;
	uint64_t            ev_time_ns;     /* when it happened (PAIR_CHANGED: when the data plane took */
	uint64_t            ev_mono_ns;     /* the pair; else the agent's emit): REALTIME / MONOTONIC ns */
};

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(sizeof(struct shim_locator) == 32, "shim_locator size");
_Static_assert(sizeof(struct shim_pathexplore) == 12, "shim_pathexplore size");
_Static_assert(sizeof(struct shim_feedback) == 4, "shim_feedback size");
_Static_assert(sizeof(struct shim6_event) == 128, "shim6_event size");
#endif

/* Text for the four errno values above; strerror() for any other. */
const char *shim_strerror(int errnum);

/* libshim6: level SOL_SHIM goes to shim6d over its API socket (env
 * SHIM6_API_SOCKET, default SHIM6_API_SOCKET_DEFAULT); any other level goes
 * to the C library. The interposer in libshim6 makes plain getsockopt(),
 * setsockopt(), sendmsg() and recvmsg() do the same. With no agent
 * answering, SOL_SHIM calls fail with ENOPROTOOPT, as on a system without
 * the shim. */
#define SHIM6_API_SOCKET_DEFAULT "/run/shim6/api.sock"

int shim6_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen);
int shim6_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
ssize_t shim6_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t shim6_recvmsg(int fd, struct msghdr *msg, int flags);

/* Events of fd's context: a descriptor to poll and read with
 * shim6_read_event(), close() to stop; -1 with errno (ENOPROTOOPT: no agent;
 * EOPNOTSUPP: fd is not a connected IPv4/IPv6 socket, or the agent has no
 * events). shim6_subscribe_mask() takes SHIM_EVENT_BIT()s. */
int shim6_subscribe(int fd);
int shim6_subscribe_mask(int fd, uint32_t mask);
/* One event: 0, or -1 with errno: EAGAIN (evfd is non-blocking and none is
 * queued), EINTR, ECONNRESET (the agent went away: subscribe again). Blocks
 * otherwise. */
int shim6_read_event(int evfd, struct shim6_event *ev);

#ifdef __cplusplus
}
#endif

#endif /* SHIM6_SHIM_H */
