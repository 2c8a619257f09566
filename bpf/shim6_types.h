/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* shim6_types.h: every map key, map value and event layout, defined once.
 * Sizes are asserted; the TypeScript layouts are generated from the BTF of
 * the built object (scripts/gen-layout.mjs), so a change here that is not
 * regenerated fails `make check-generated`. */
#ifndef SHIM6_TYPES_H
#define SHIM6_TYPES_H

#include <linux/types.h>
#include "shim6_consts.h"

/* (ULID(local), ULID(peer), FII) -> context id. Egress index. */
struct shim6_ulid_key {
	__u8  ulid_local[16];
	__u8  ulid_peer[16];
	__u32 fii;
};
_Static_assert(sizeof(struct shim6_ulid_key) == 36, "shim6_ulid_key size");

/* One Shim6 context as the data plane needs it (key: context id). */
struct shim6_ctx {
	__u8  ulid_local[16];
	__u8  ulid_peer[16];
	__u8  lp_local[16];   /* current locator pair */
	__u8  lp_peer[16];
	__u64 ct_peer;        /* written into payload headers we send */
	__u64 ct_local;       /* found in payload headers we receive */
	__u32 ifindex;        /* uplink that carries lp_local */
	__u32 flags;          /* SHIM6_CTX_F_* */
	__u32 fii;
	__u32 pad;
};
_Static_assert(sizeof(struct shim6_ctx) == 96, "shim6_ctx size");

/* Locator sets: (context id, side, address) -> locator. */
struct shim6_loc_key {
	__u32 ctx_id;
	__u32 side;           /* SHIM6_SIDE_* */
	__u8  addr[16];
};
_Static_assert(sizeof(struct shim6_loc_key) == 24, "shim6_loc_key size");

struct shim6_locator {
	__u32 flags;          /* SHIM6_LOC_F_* */
	__u32 pad;
};
_Static_assert(sizeof(struct shim6_locator) == 8, "shim6_locator size");

/* Local address -> the uplink that carries it (key: the address). Used for
 * packets whose source locator is not the context's current one (pinned by
 * a socket, or sent unmodified on the ULIDs without a context). The next
 * hop comes from the kernel's FIB: see out_via() in shim6.bpf.c. */
struct shim6_uplink {
	__u32 ifindex;
	__u32 flags;
};
_Static_assert(sizeof(struct shim6_uplink) == 8, "shim6_uplink size");

struct shim6_addr_key {
	__u8  addr[16];
};
_Static_assert(sizeof(struct shim6_addr_key) == 16, "shim6_addr_key size");

/* Per-context traffic facts for REAP, per CPU (user space sums counters and
 * takes the latest stamps). Index: context id. */
struct shim6_ctx_stats {
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 last_tx_ns;     /* bpf_ktime_get_coarse_ns() (one tick) of the last packet sent */
	__u64 last_rx_ns;     /* ... received (with or without payload header) */
};
_Static_assert(sizeof(struct shim6_ctx_stats) == 48, "shim6_ctx_stats size");

/* A hot-standby pair staged by the agent for a context (key: context id):
 * REAP verified it (answered verification probes) and it stays usable until
 * valid_until_ns (bpf_ktime_get_ns clock). shim6_sockops moves the context
 * to it at the first retransmission of one of its TCP sockets, once: the
 * entry is deleted when used, and the agent stages the next one only after
 * REAP has verified it. */
struct shim6_standby {
	__u8  lp_local[16];
	__u8  lp_peer[16];
	__u32 ifindex;        /* uplink that carries lp_local */
	__u32 pad;
	__u64 valid_until_ns;
};
_Static_assert(sizeof(struct shim6_standby) == 48, "shim6_standby size");

/* Per-socket policy (RFC 6316 options), socket-local storage. */
struct shim6_sock_policy {
	__u32 flags;          /* SHIM6_SOCK_F_* */
	__u32 fii;            /* forked context instance, 0 = default */
	__u8  lp_local[16];   /* with SHIM6_SOCK_F_PIN_LOCAL */
	__u8  lp_peer[16];    /* with SHIM6_SOCK_F_PIN_PEER */
};
_Static_assert(sizeof(struct shim6_sock_policy) == 40, "shim6_sock_policy size");

/* Ring-buffer event. */
struct shim6_event {
	__u32 type;           /* SHIM6_EV_* */
	__u32 ifindex;
	__u64 ts_ns;
	__u64 tag;            /* context tag for UNKNOWN_TAG, else 0 */
	__u64 cookie;         /* socket cookie, 0 when none */
	__u8  src[16];
	__u8  dst[16];
};
_Static_assert(sizeof(struct shim6_event) == 64, "shim6_event size");

/* Object identity, one element at index 0 of shim6_abi. */
struct shim6_abi {
	__u32 magic;
	__u32 version;
};
_Static_assert(sizeof(struct shim6_abi) == 8, "shim6_abi size");

#endif
