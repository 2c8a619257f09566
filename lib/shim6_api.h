/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * shim6_api.h — the API socket's wire protocol (private to libshim6 and
 * shim6d; src/api/README.md documents it, src/api/frame.ts is the TypeScript
 * side, test/unit/api/ checks that both agree byte for byte).
 *
 * One frame per SOCK_SEQPACKET message, host byte order, netlink-style:
 *   header (16 bytes) then attributes, each { u16 len; u16 type; value }
 *   padded to 4 bytes (len excludes the padding). Every request passes the
 *   caller's socket with SCM_RIGHTS (except NOOP).
 */
#ifndef SHIM6_API_H
#define SHIM6_API_H

#include <stddef.h>
#include <stdint.h>

#define SHIM6_API_VERSION    1
#define SHIM6_API_HDRLEN     16
#define SHIM6_API_ATTR_HDRLEN 4
#define SHIM6_API_MAX_FRAME  16384

/* Message types. A reply has the request's type and F_REPLY. */
#define SHIM6_API_NOOP        0x01  /* no fd; answers ERRNO 0 (liveness, version check) */
#define SHIM6_API_GETSOCKOPT  0x10  /* LEVEL, OPTNAME, OPTLEN → ERRNO, OPTVAL, OPTLEN */
#define SHIM6_API_SETSOCKOPT  0x11  /* LEVEL, OPTNAME, OPTVAL → ERRNO */
#define SHIM6_API_SENDMSG     0x12  /* CMSG* to apply to one datagram → ERRNO, ONESHOT? */
#define SHIM6_API_RECVMSG     0x13  /* RECV_WANT? → ERRNO, CMSG* (latest received locators, Table 2) */
#define SHIM6_API_SENDMSG_DONE 0x14 /* after the datagram of a SENDMSG answered ONESHOT → ERRNO */
#define SHIM6_API_SUBSCRIBE   0x20  /* fd, EVENT_MASK? → ERRNO, SUB_ID; then EVENT messages */
#define SHIM6_API_EVENT       0x21  /* agent → client, F_MULTI, seq of the SUBSCRIBE: SUB_ID, EVENT */
#define SHIM6_API_UNSUBSCRIBE 0x22  /* SUB_ID → ERRNO (or close the connection) */
#define SHIM6_API_FORK        0x30  /* reserved: context forking (RFC 6316 §11.1) */

/* Header flags. */
#define SHIM6_API_F_REQUEST 0x0001
#define SHIM6_API_F_REPLY   0x0002
#define SHIM6_API_F_MULTI   0x0004  /* sent by the agent on its own (events) */

/* Attribute types. */
#define SHIM6_API_A_ERRNO      1  /* u32: 0 = success, else an errno (Linux or <shim6/shim.h>) */
#define SHIM6_API_A_LEVEL      2  /* u32: SOL_SHIM */
#define SHIM6_API_A_OPTNAME    3  /* u32 */
#define SHIM6_API_A_OPTLEN     4  /* u32: get request: caller's buffer size; reply: bytes needed */
#define SHIM6_API_A_OPTVAL     5  /* bytes */
#define SHIM6_API_A_MESSAGE    6  /* UTF-8 text, diagnostic only */
#define SHIM6_API_A_CMSG       7  /* nested CMSG_LEVEL, CMSG_TYPE, CMSG_DATA */
#define SHIM6_API_A_CMSG_LEVEL 8
#define SHIM6_API_A_CMSG_TYPE  9
#define SHIM6_API_A_CMSG_DATA 10
#define SHIM6_API_A_EVENT_MASK 11 /* u32: SHIM_EVENT_BIT()s (absent: SHIM_EVENT_ALL) */
#define SHIM6_API_A_EVENT     12  /* struct shim6_event */
#define SHIM6_API_A_SUB_ID    13  /* u32: subscription id */
#define SHIM6_API_A_RECV_WANT 14  /* u32: RECVMSG: SHIM6_API_RECV_LOCAL | SHIM6_API_RECV_PEER (absent: the socket's SHIM_LOC_*_RECV) */

#define SHIM6_API_A_ONESHOT   15  /* u32 1: SENDMSG reply: pins set for one datagram; SENDMSG_DONE after it */

#define SHIM6_API_RECV_LOCAL 0x1
#define SHIM6_API_RECV_PEER  0x2

struct shim6_api_hdr {
	uint32_t len;      /* whole frame, header included, multiple of 4 */
	uint16_t type;
	uint16_t flags;
	uint32_t seq;      /* chosen by the requester, echoed in the reply */
	uint16_t version;  /* SHIM6_API_VERSION */
	uint16_t reserved; /* zero, ignored */
};

struct shim6_api_attr {
	uint16_t len;      /* header + value, without padding */
	uint16_t type;
};

#define SHIM6_API_ALIGN(n) (((n) + 3u) & ~3u)

/* A frame being built in a caller's buffer. */
struct shim6_api_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int overflow;      /* set when something did not fit */
};

void shim6_api_init(struct shim6_api_builder *b, void *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq);
void shim6_api_put(struct shim6_api_builder *b, uint16_t type, const void *val, size_t len);
void shim6_api_put_u32(struct shim6_api_builder *b, uint16_t type, uint32_t v);
/* Nested attribute: start returns a mark, end patches the length in. */
size_t shim6_api_nest_start(struct shim6_api_builder *b, uint16_t type);
void shim6_api_nest_end(struct shim6_api_builder *b, size_t mark);
/* Finish: writes the length; returns it, or 0 on overflow. */
size_t shim6_api_finish(struct shim6_api_builder *b);

/* Check a received frame; 0, or the errno a malformed frame is answered with
 * (EBADMSG: framing; EPROTONOSUPPORT: version). */
int shim6_api_check(const void *buf, size_t len);
/* First attribute of a type in a checked frame: its value and length, or NULL. */
const void *shim6_api_find(const void *buf, size_t len, uint16_t type, size_t *vlen);
/* A u32 attribute: 0 when present with 4 bytes, -1 otherwise. */
int shim6_api_get_u32(const void *buf, size_t len, uint16_t type, uint32_t *out);

#endif
