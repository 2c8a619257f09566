// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// libshim6: RFC 6316 SOL_SHIM socket options for C programs (include/shim6/shim.h).
//
// The kernel knows no SOL_SHIM; shim6d serves it on a Unix SOCK_SEQPACKET
// socket (src/api/README.md). shim6_getsockopt() and friends send level
// SOL_SHIM there, with the caller's socket passed by SCM_RIGHTS, and pass
// every other level to the C library. The interposer at the end makes plain
// getsockopt()/setsockopt()/sendmsg()/recvmsg() do the same, whether the
// program links -lshim6 or runs under LD_PRELOAD=libshim6.so; the C library's
// functions are found with dlsym(RTLD_NEXT, ...).
//
// With no agent answering, SOL_SHIM calls fail with ENOPROTOOPT, as they
// would on a system without the shim. Calls share one connection per
// process (api_call below: safe across threads, signal handlers and fork()).
// shim6_subscribe() opens a connection of its own that the application polls
// for events (a shim6 extension, <shim6/shim.h>).
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <shim6/shim.h>
#include "shim6_api.h"

#define EXPORT __attribute__((visibility("default")))

#define API_TIMEOUT_MS 5000

typedef int (*getsockopt_fn)(int, int, int, void *, socklen_t *);
typedef int (*setsockopt_fn)(int, int, int, const void *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef ssize_t (*recvmsg_fn)(int, struct msghdr *, int);

// ---- the C library's functions ----------------------------------------------------

static void *next_sym(void **cache, const char *name)
{
	void *p = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
	if (!p) {
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(cache, p, __ATOMIC_RELEASE);
	}
	return p;
}

static int libc_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	static void *cache;
	getsockopt_fn f = (getsockopt_fn)next_sym(&cache, "getsockopt");
	return f ? f(fd, level, name, val, len) : (int)syscall(SYS_getsockopt, fd, level, name, val, len);
}

static int libc_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	static void *cache;
	setsockopt_fn f = (setsockopt_fn)next_sym(&cache, "setsockopt");
	return f ? f(fd, level, name, val, len) : (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

static ssize_t libc_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	static void *cache;
	sendmsg_fn f = (sendmsg_fn)next_sym(&cache, "sendmsg");
	return f ? f(fd, msg, flags) : syscall(SYS_sendmsg, fd, msg, flags);
}

static ssize_t libc_recvmsg(int fd, struct msghdr *msg, int flags)
{
	static void *cache;
	recvmsg_fn f = (recvmsg_fn)next_sym(&cache, "recvmsg");
	return f ? f(fd, msg, flags) : syscall(SYS_recvmsg, fd, msg, flags);
}

// ---- errno texts ---------------------------------------------------------------------

EXPORT const char *shim_strerror(int errnum)
{
	switch (errnum) {
	case EINVALIDLOCATOR: return "Invalid locator";
	case EUNVERIFIEDLOCATOR: return "Locator not verified";
	case EUNREACHABLELOCATOR: return "Locator unreachable";
	case ETOOMANYLOCATORS: return "Too many locators";
	default: return strerror(errnum);
	}
}

// ---- one request to the agent -----------------------------------------------------------

/* The agent of this network namespace listens on /run/shim6/net-<inode of
 * the netns>/api.sock (each namespace has its own agent); SHIM6_API_SOCKET
 * overrides it, and SHIM6_API_SOCKET_DEFAULT is the last resort. */
static const char *api_path(void)
{
	static __thread char buf[108];
	const char *p = secure_getenv("SHIM6_API_SOCKET");
	struct stat st;

	if (p && *p)
		return p;
	if (stat("/proc/self/ns/net", &st) == 0) {
		snprintf(buf, sizeof(buf), "/run/shim6/net-%llu/api.sock", (unsigned long long)st.st_ino);
		if (access(buf, F_OK) == 0)
			return buf;
	}
	return SHIM6_API_SOCKET_DEFAULT;
}

static uint32_t next_seq(void)
{
	static uint32_t seq;
	return __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int api_connect(const char *path, int *out)
{
	struct sockaddr_un sa;
	size_t n = strlen(path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (n >= sizeof(sa.sun_path))
		return ENOPROTOOPT;
	memcpy(sa.sun_path, path, n);
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	int r;
	do
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(s);
		return e == ENOENT || e == ECONNREFUSED || e == ENOTDIR ? ENOPROTOOPT : e;
	}
	// Replies are awaited in a blocking recv() bounded by this (no poll() per call).
	struct timeval tv = { API_TIMEOUT_MS / 1000, (API_TIMEOUT_MS % 1000) * 1000 };
	if (libc_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno;
		close(s);
		return e;
	}
	*out = s;
	return 0;
}

// sendmsg of one frame, passing fd when >= 0. 0 or an errno.
static int api_send(int s, int fd, const uint8_t *req, size_t reqlen)
{
	struct iovec iov = { (void *)req, reqlen };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t r;
	do
		r = libc_sendmsg(s, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? errno : 0;
}

// Wait up to API_TIMEOUT_MS for the reply to req and receive it. 0, or an
// errno: ETIMEDOUT, ECONNRESET (the agent closed the connection), EPROTO (not
// the reply to req).
static int api_recv(int s, const uint8_t *req, uint8_t *rep, size_t cap, size_t *rlen)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t r;
	// SO_RCVTIMEO (api_connect) bounds each wait; a signal restarts it, the total stays bounded.
	do
		r = recv(s, rep, cap, MSG_TRUNC);
	while (r < 0 && errno == EINTR && ms_since(&t0) < API_TIMEOUT_MS);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? ETIMEDOUT : errno == EPIPE ? ECONNRESET : errno;
	if (r == 0)
		return ECONNRESET;  // the agent went away
	if ((size_t)r > cap || shim6_api_check(rep, (size_t)r))
		return EPROTO;
	struct shim6_api_hdr qh, ah;
	memcpy(&qh, req, sizeof(qh));
	memcpy(&ah, rep, sizeof(ah));
	if (ah.seq != qh.seq || ah.type != qh.type || !(ah.flags & SHIM6_API_F_REPLY))
		return EPROTO;
	*rlen = (size_t)r;
	return 0;
}

// One request on a short connection of its own.
static int api_call_once(const char *path, int fd, const uint8_t *req, size_t reqlen, uint8_t *rep, size_t cap, size_t *rlen)
{
	int s, e = api_connect(path, &s);
	if (e)
		return e;
	e = api_send(s, fd, req, reqlen);
	if (!e)
		e = api_recv(s, req, rep, cap, rlen);
	close(s);
	if (e == EPIPE || e == ECONNRESET)
		return ENOPROTOOPT;  // the agent went away
	return e;
}

/*
 * The process keeps one API connection open (connecting costs the agent an
 * accept and a poll registration per call). A thread that finds it in use —
 * another thread, or a signal handler interrupting a call — makes a short
 * connection of its own instead of waiting. fork(): the child drops its copy
 * of the parent's connection (whose replies it must not read) and frees the
 * lock a parent thread may have held (atfork handler, below). Any error drops
 * the connection; a call that finds the agent gone (restarted) reconnects
 * once. The path is resolved once per connection: SHIM6_API_SOCKET is read
 * on every call (a change reconnects), the network namespace's default only
 * when connecting. The descriptor is the application's to close too (a
 * daemon closing every fd, closefrom()): each call checks with fstat() that
 * it is still this connection's socket before using it — never writing to,
 * or closing, a file that took its number.
 */
static struct {
	int busy;            /* lock: 1 while a call uses fd */
	int fd;              /* -1: not connected */
	int from_env;        /* path came from SHIM6_API_SOCKET */
	dev_t dev;           /* fd's identity when connected */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} conn = { 0, -1, 0, 0, 0, "" };

/* Is conn.fd still the socket we connected? */
static int conn_owned(void)
{
	struct stat st;
	return conn.fd >= 0 && fstat(conn.fd, &st) == 0 && st.st_dev == conn.dev && st.st_ino == conn.ino;
}

/* Forget the connection, closing it only when the fd is still ours. */
static void conn_forget(int owned)
{
	if (conn.fd >= 0 && owned)
		close(conn.fd);
	conn.fd = -1;
}

static void conn_drop(void)
{
	conn_forget(1);
}

static void conn_atfork_child(void)
{
	conn_forget(conn_owned());
	__atomic_store_n(&conn.busy, 0, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void conn_init(void)
{
	pthread_atfork(NULL, NULL, conn_atfork_child);
}

// Send req (passing fd when >= 0), receive the reply into rep. Returns 0 with
// *rlen set, or an errno: ENOPROTOOPT when no agent answers, EPROTO when the
// reply does not match.
static int api_call(int fd, const uint8_t *req, size_t reqlen, uint8_t *rep, size_t cap, size_t *rlen)
{
	if (__atomic_exchange_n(&conn.busy, 1, __ATOMIC_ACQUIRE))
		return api_call_once(api_path(), fd, req, reqlen, rep, cap, rlen);
	const char *env = secure_getenv("SHIM6_API_SOCKET");
	if (env && !*env)
		env = NULL;
	if (conn.fd >= 0 && !conn_owned())
		conn_forget(0);  // the application closed it (the number may be another file's now)
	if (conn.fd >= 0 && (env ? !conn.from_env || strcmp(conn.path, env) : conn.from_env))
		conn_drop();  // SHIM6_API_SOCKET changed
	int e = 0;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fresh = conn.fd < 0;
		if (fresh) {
			const char *path = env ? env : api_path();
			if (strlen(path) >= sizeof(conn.path)) {
				e = ENOPROTOOPT;
				break;
			}
			e = api_connect(path, &conn.fd);
			struct stat st;
			if (!e && fstat(conn.fd, &st) < 0) {
				e = errno;
				close(conn.fd);
			}
			if (e) {
				conn.fd = -1;
				break;
			}
			conn.dev = st.st_dev;
			conn.ino = st.st_ino;
			conn.from_env = env != NULL;
			strcpy(conn.path, path);
		}
		e = api_send(conn.fd, fd, req, reqlen);
		if (!e)
			e = api_recv(conn.fd, req, rep, cap, rlen);
		if (!e)
			break;
		conn_drop();  // never reuse a connection in doubt: a late reply would answer the next call
		if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) {
			e = ENOPROTOOPT;
			if (!fresh)
				continue;  // the agent restarted since the last call: once more on a new connection
		}
		break;
	}
	__atomic_store_n(&conn.busy, 0, __ATOMIC_RELEASE);
	return e;
}

// The reply's ERRNO (EPROTO when it has none).
static int reply_errno(const uint8_t *rep, size_t rlen)
{
	uint32_t e;
	if (shim6_api_get_u32(rep, rlen, SHIM6_API_A_ERRNO, &e) < 0)
		return EPROTO;
	return (int)e;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

// ---- the RFC 6316 calls -----------------------------------------------------------------

static void recv_remember(int fd, int optname, int on);

EXPORT int shim6_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	if (level != SOL_SHIM)
		return libc_getsockopt(fd, level, optname, optval, optlen);
	if (!optlen || (!optval && *optlen))
		return fail(EFAULT);
	if (fd < 0)
		return fail(EBADF);
	uint8_t req[64], rep[SHIM6_API_MAX_FRAME];
	struct shim6_api_builder b;
	shim6_api_init(&b, req, sizeof(req), SHIM6_API_GETSOCKOPT, SHIM6_API_F_REQUEST, next_seq());
	shim6_api_put_u32(&b, SHIM6_API_A_LEVEL, SOL_SHIM);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTNAME, (uint32_t)optname);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTLEN, (uint32_t)*optlen);
	size_t reqlen = shim6_api_finish(&b), rlen = 0;
	int e = api_call(fd, req, reqlen, rep, sizeof(rep), &rlen);
	if (!e)
		e = reply_errno(rep, rlen);
	if (e)
		return fail(e);
	size_t vlen = 0;
	const void *v = shim6_api_find(rep, rlen, SHIM6_API_A_OPTVAL, &vlen);
	if (!v)
		vlen = 0;
	if (vlen > *optlen)
		vlen = *optlen;  // never more than the caller's buffer (the agent does not send more)
	if (vlen)
		memcpy(optval, v, vlen);
	*optlen = (socklen_t)vlen;
	return 0;
}

EXPORT int shim6_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	if (level != SOL_SHIM)
		return libc_setsockopt(fd, level, optname, optval, optlen);
	if (!optval && optlen)
		return fail(EFAULT);
	if (fd < 0)
		return fail(EBADF);
	if (optlen > SHIM6_API_MAX_FRAME - 64)
		return fail(optname == SHIM_LOCLIST_LOCAL || optname == SHIM_LOCLIST_PEER ? ETOOMANYLOCATORS : EINVAL);
	uint8_t req[SHIM6_API_MAX_FRAME], rep[256];
	struct shim6_api_builder b;
	shim6_api_init(&b, req, sizeof(req), SHIM6_API_SETSOCKOPT, SHIM6_API_F_REQUEST, next_seq());
	shim6_api_put_u32(&b, SHIM6_API_A_LEVEL, SOL_SHIM);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTNAME, (uint32_t)optname);
	shim6_api_put(&b, SHIM6_API_A_OPTVAL, optval, optlen);
	size_t reqlen = shim6_api_finish(&b), rlen = 0;
	if (!reqlen)
		return fail(EINVAL);
	int e = api_call(fd, req, reqlen, rep, sizeof(rep), &rlen);
	if (!e)
		e = reply_errno(rep, rlen);
	if (e)
		return fail(e);
	if ((optname == SHIM_LOC_LOCAL_RECV || optname == SHIM_LOC_PEER_RECV) && optlen == sizeof(int))
		recv_remember(fd, optname, *(const int *)optval != 0);
	return 0;
}

// sendmsg: SOL_SHIM cmsgs (Table 2: SHIM_LOC_*_SEND, SHIM_FEEDBACK) go to the
// agent first (SENDMSG request); when it accepts them, the datagram is sent
// without them. Everything else is the C library's sendmsg.
EXPORT ssize_t shim6_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!msg || !msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr))
		return libc_sendmsg(fd, msg, flags);
	int shim = 0;
	size_t keep = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == SOL_SHIM)
			shim++;
		else
			keep += CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
	}
	if (!shim)
		return libc_sendmsg(fd, msg, flags);
	uint8_t req[SHIM6_API_MAX_FRAME], rep[256];
	struct shim6_api_builder b;
	shim6_api_init(&b, req, sizeof(req), SHIM6_API_SENDMSG, SHIM6_API_F_REQUEST, next_seq());
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level != SOL_SHIM)
			continue;
		size_t m = shim6_api_nest_start(&b, SHIM6_API_A_CMSG);
		shim6_api_put_u32(&b, SHIM6_API_A_CMSG_LEVEL, SOL_SHIM);
		shim6_api_put_u32(&b, SHIM6_API_A_CMSG_TYPE, (uint32_t)c->cmsg_type);
		shim6_api_put(&b, SHIM6_API_A_CMSG_DATA, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
		shim6_api_nest_end(&b, m);
	}
	size_t reqlen = shim6_api_finish(&b), rlen = 0;
	if (!reqlen)
		return fail(EINVAL);
	int e = api_call(fd, req, reqlen, rep, sizeof(rep), &rlen);
	if (!e)
		e = reply_errno(rep, rlen);
	if (e)
		return fail(e);
	uint32_t oneshot = 0;
	if (shim6_api_get_u32(rep, rlen, SHIM6_API_A_ONESHOT, &oneshot) < 0)
		oneshot = 0;
	// Send without the SOL_SHIM cmsgs.
	struct msghdr copy = *msg;
	char *ctl = keep ? malloc(keep) : NULL;
	if (keep && !ctl)
		return fail(ENOMEM);
	size_t off = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == SOL_SHIM)
			continue;
		size_t sp = CMSG_SPACE(c->cmsg_len - CMSG_LEN(0));
		memset(ctl + off, 0, sp);
		memcpy(ctl + off, c, c->cmsg_len);
		off += sp;
	}
	copy.msg_control = ctl;
	copy.msg_controllen = keep;
	ssize_t r = libc_sendmsg(fd, &copy, flags);
	int se = errno;
	free(ctl);
	if (oneshot) {
		// SHIM_LOC_*_SEND pinned the socket for this datagram: it has passed
		// the shim's egress when sendmsg() returns (or failed); put the
		// socket's own pins back.
		shim6_api_init(&b, req, sizeof(req), SHIM6_API_SENDMSG_DONE, SHIM6_API_F_REQUEST, next_seq());
		reqlen = shim6_api_finish(&b);
		if (reqlen)
			(void)api_call(fd, req, reqlen, rep, sizeof(rep), &rlen);
	}
	errno = se;
	return r;
}

/*
 * recvmsg and SHIM_LOC_LOCAL_RECV / SHIM_LOC_PEER_RECV (Table 2). Asking the
 * agent on every recvmsg() of every socket would cost each one a round trip:
 * the library remembers the sockets on which it set those options (by fd and
 * the socket's inode, so a closed and reused number is not taken for it), and
 * only for them asks the agent (RECVMSG) for the locators after the data
 * arrived. The cmsgs are appended after the kernel's; without room for them
 * MSG_CTRUNC is set. A failed request never fails the recvmsg() that already
 * consumed data: it delivers zero-filled locators, as a socket without a
 * context gets (§7.1).
 */
#define RECV_SLOTS 256
static struct recv_slot {
	int fd;
	unsigned flags;  /* SHIM6_API_RECV_* */
	dev_t dev;
	ino_t ino;
} recv_slots[RECV_SLOTS];
static int recv_used;
static pthread_mutex_t recv_lock = PTHREAD_MUTEX_INITIALIZER;

static void recv_remember(int fd, int optname, int on)
{
	struct stat st;
	unsigned bit = optname == SHIM_LOC_LOCAL_RECV ? SHIM6_API_RECV_LOCAL : SHIM6_API_RECV_PEER;
	if (fstat(fd, &st) < 0)
		return;
	pthread_mutex_lock(&recv_lock);
	struct recv_slot *free_slot = NULL, *slot = NULL;
	for (int i = 0; i < RECV_SLOTS; i++) {
		struct recv_slot *r = &recv_slots[i];
		if (r->flags && r->fd == fd) {
			if (r->dev == st.st_dev && r->ino == st.st_ino)
				slot = r;
			else
				r->flags = 0, recv_used--;  /* an old socket that had this number */
		}
		if (!r->flags && !free_slot)
			free_slot = r;
	}
	if (!slot && on && free_slot) {
		slot = free_slot;
		*slot = (struct recv_slot){ fd, 0, st.st_dev, st.st_ino };
		recv_used++;
	}
	if (slot) {
		slot->flags = on ? slot->flags | bit : slot->flags & ~bit;
		if (!slot->flags)
			recv_used--;
	}
	pthread_mutex_unlock(&recv_lock);
}

static unsigned recv_wanted(int fd)
{
	if (!__atomic_load_n(&recv_used, __ATOMIC_RELAXED))
		return 0;
	unsigned flags = 0;
	dev_t dev = 0;
	ino_t ino = 0;
	pthread_mutex_lock(&recv_lock);
	for (int i = 0; i < RECV_SLOTS; i++)
		if (recv_slots[i].flags && recv_slots[i].fd == fd) {
			flags = recv_slots[i].flags;
			dev = recv_slots[i].dev;
			ino = recv_slots[i].ino;
			break;
		}
	pthread_mutex_unlock(&recv_lock);
	struct stat st;
	if (flags && (fstat(fd, &st) < 0 || st.st_dev != dev || st.st_ino != ino))
		return 0;  // not the socket that asked (its number was reused)
	return flags;
}

EXPORT ssize_t shim6_recvmsg(int fd, struct msghdr *msg, int flags)
{
	size_t cap = msg ? msg->msg_controllen : 0;
	ssize_t r = libc_recvmsg(fd, msg, flags);
	if (r < 0 || !msg)
		return r;
	unsigned want = recv_wanted(fd);
	if (!want)
		return r;
	int se = errno;
	uint8_t req[64], rep[512];
	struct shim6_api_builder b;
	shim6_api_init(&b, req, sizeof(req), SHIM6_API_RECVMSG, SHIM6_API_F_REQUEST, next_seq());
	shim6_api_put_u32(&b, SHIM6_API_A_RECV_WANT, want);
	size_t reqlen = shim6_api_finish(&b), rlen = 0;
	int e = api_call(fd, req, reqlen, rep, sizeof(rep), &rlen);
	if (!e)
		e = reply_errno(rep, rlen);
	// The locators of each wanted type: the agent's, else zero-filled.
	struct sockaddr_in6 loc[2];
	memset(loc, 0, sizeof(loc));
	if (!e) {
		// Walk the reply's CMSG attributes (nested LEVEL, TYPE, DATA).
		size_t off = SHIM6_API_HDRLEN;
		while (off + SHIM6_API_ATTR_HDRLEN <= rlen) {
			struct shim6_api_attr a;
			memcpy(&a, rep + off, sizeof(a));
			if (a.len < SHIM6_API_ATTR_HDRLEN || off + a.len > rlen)
				break;
			if (a.type == SHIM6_API_A_CMSG) {
				uint32_t type = 0;
				const uint8_t *data = NULL;
				size_t dlen = 0, in = off + SHIM6_API_ATTR_HDRLEN, end = off + a.len;
				while (in + SHIM6_API_ATTR_HDRLEN <= end) {
					struct shim6_api_attr ia;
					memcpy(&ia, rep + in, sizeof(ia));
					if (ia.len < SHIM6_API_ATTR_HDRLEN || in + ia.len > end)
						break;
					if (ia.type == SHIM6_API_A_CMSG_TYPE && ia.len == SHIM6_API_ATTR_HDRLEN + 4)
						memcpy(&type, rep + in + SHIM6_API_ATTR_HDRLEN, 4);
					else if (ia.type == SHIM6_API_A_CMSG_DATA)
						data = rep + in + SHIM6_API_ATTR_HDRLEN, dlen = ia.len - SHIM6_API_ATTR_HDRLEN;
					in += SHIM6_API_ALIGN(ia.len);
				}
				int i = type == SHIM_LOC_LOCAL_RECV ? 0 : type == SHIM_LOC_PEER_RECV ? 1 : -1;
				if (i >= 0 && data && dlen == sizeof(loc[i]))
					memcpy(&loc[i], data, dlen);
			}
			off += SHIM6_API_ALIGN(a.len);
		}
	}
	size_t used = msg->msg_control ? CMSG_ALIGN(msg->msg_controllen) : 0;
	for (int i = 0; i < 2; i++) {
		if (!(want & (i == 0 ? SHIM6_API_RECV_LOCAL : SHIM6_API_RECV_PEER)))
			continue;
		if (!msg->msg_control || used + CMSG_SPACE(sizeof(loc[i])) > cap) {
			msg->msg_flags |= MSG_CTRUNC;
			continue;
		}
		struct cmsghdr *c = (struct cmsghdr *)((char *)msg->msg_control + used);
		memset(c, 0, CMSG_SPACE(sizeof(loc[i])));
		c->cmsg_level = SOL_SHIM;
		c->cmsg_type = i == 0 ? SHIM_LOC_LOCAL_RECV : SHIM_LOC_PEER_RECV;
		c->cmsg_len = CMSG_LEN(sizeof(loc[i]));
		memcpy(CMSG_DATA(c), &loc[i], sizeof(loc[i]));
		used += CMSG_SPACE(sizeof(loc[i]));
		msg->msg_controllen = used;
	}
	errno = se;
	return r;
}

// ---- events (shim6 extension) ------------------------------------------------------------

EXPORT int shim6_subscribe_mask(int fd, uint32_t mask)
{
	if (fd < 0)
		return fail(EBADF);
	uint8_t req[64], rep[512];
	struct shim6_api_builder b;
	shim6_api_init(&b, req, sizeof(req), SHIM6_API_SUBSCRIBE, SHIM6_API_F_REQUEST, next_seq());
	shim6_api_put_u32(&b, SHIM6_API_A_EVENT_MASK, mask);
	size_t reqlen = shim6_api_finish(&b), rlen = 0;
	int s, e = api_connect(api_path(), &s);
	if (e)
		return fail(e);
	e = api_send(s, fd, req, reqlen);
	if (!e)
		e = api_recv(s, req, rep, sizeof(rep), &rlen);
	if (e == EPIPE || e == ECONNRESET)
		e = ENOPROTOOPT;
	if (!e)
		e = reply_errno(rep, rlen);
	struct timeval none = { 0, 0 };
	if (!e && libc_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none)) < 0)
		e = errno;  // shim6_read_event() blocks without a time limit
	if (e) {
		close(s);
		return fail(e);
	}
	return s;
}

EXPORT int shim6_subscribe(int fd)
{
	return shim6_subscribe_mask(fd, SHIM_EVENT_ALL);
}

EXPORT int shim6_read_event(int evfd, struct shim6_event *ev)
{
	uint8_t buf[1024];
	if (!ev)
		return fail(EFAULT);
	for (;;) {
		ssize_t r = recv(evfd, buf, sizeof(buf), MSG_TRUNC);
		if (r < 0)
			return -1;  // EAGAIN, EINTR, ECONNRESET, EBADF... as recv() set it
		if (r == 0)
			return fail(ECONNRESET);  // the agent closed the connection
		if ((size_t)r > sizeof(buf) || shim6_api_check(buf, (size_t)r))
			continue;  // not a frame this library understands: skip it
		struct shim6_api_hdr h;
		memcpy(&h, buf, sizeof(h));
		if (h.type != SHIM6_API_EVENT || !(h.flags & SHIM6_API_F_MULTI))
			continue;  // e.g. the reply to an UNSUBSCRIBE
		size_t vlen = 0;
		const void *v = shim6_api_find(buf, (size_t)r, SHIM6_API_A_EVENT, &vlen);
		if (!v || vlen < sizeof(*ev))
			continue;
		memcpy(ev, v, sizeof(*ev));  // a newer agent's longer struct: the fields this header knows
		return 0;
	}
}

// ---- the interposer ---------------------------------------------------------------------

EXPORT int getsockopt(int fd, int level, int optname, void *__restrict optval, socklen_t *__restrict optlen)
{
	return shim6_getsockopt(fd, level, optname, optval, optlen);
}

EXPORT int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	return shim6_setsockopt(fd, level, optname, optval, optlen);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return shim6_sendmsg(fd, msg, flags);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	return shim6_recvmsg(fd, msg, flags);
}
