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

/* Egress fast-path record (README "Per-packet cost"): what shim6_egress
 * needs for one (ULID pair, FII), at its home slot in shim6_tx (index
 * shim6_pair_slot(key)) or, when another pair holds that slot, as the value
 * of the pair in shim6_ulid. Written by user space (DataplaneMaps.ulidPut,
 * refreshed by ctxPut) as a copy of the context's shim6_ctx record; the
 * counters and stamps are the data plane's (user space keeps them across its
 * rewrites). Lines 0-1: what egress reads; line 2: receive facts. */
struct shim6_tx {
	__u8  ulid_local[16]; /* the key: ULID pair and FII */
	__u8  ulid_peer[16];
	__u32 fii;
	__u32 id;             /* context id; 0 = slot unused */
	__u32 flags;          /* SHIM6_CTX_F_* */
	__u32 ifindex;        /* uplink that carries lp_local */
	__u64 ct_peer;
	__u32 overflow;       /* home slot: pairs hashing here that live in shim6_ulid */
	__u32 pad0;
	__u8  lp_local[16];   /* current locator pair */
	__u8  lp_peer[16];
	__u64 tx_packets;     /* REAP's traffic facts: packets sent, */
	__u64 tx_bytes;
	__u64 last_tx_ns;     /* bpf_ktime_get_coarse_ns() (one tick) of the last one, */
	__u64 last_tx_jiffies;/* read at the first packet of its tick (see stamp()) */
	__u64 rx_packets;     /* unmodified packets received on the ULID pair */
	__u64 rx_bytes;
	__u64 last_rx_ns;
	__u64 last_rx_jiffies;
	__u8  pad1[96];
};
_Static_assert(sizeof(struct shim6_tx) == 256, "shim6_tx size");

/* Ingress fast-path record of context id (index), shim6_rx: what
 * shim6_ingress needs to accept a payload header and restore the ULIDs,
 * with up to SHIM6_RX_LOCS locators of each set inline (more: the rest are
 * in shim6_loc). Same ownership as struct shim6_tx. */
struct shim6_rx {
	__u64 ct_local;       /* the tag this context receives */
	__u32 id;             /* = the index; 0 = unused */
	__u32 flags;          /* SHIM6_CTX_F_* */
	__u8  n_local;        /* addresses in ls_local */
	__u8  n_peer;         /* addresses in ls_peer */
	__u8  more;           /* SHIM6_RX_MORE_*: the set also has addresses only in shim6_loc */
	__u8  pad0;
	__u32 fii;            /* forked instance (RFC 6316 §11.1), 0 = the default context */
	__u64 rx_packets;     /* payload-header packets received */
	__u64 rx_bytes;
	__u64 last_rx_ns;
	__u64 last_rx_jiffies;
	__u64 pad1;
	__u8  ulid_local[16];
	__u8  ulid_peer[16];
	__u8  ls_peer[SHIM6_RX_LOCS * 16];
	__u8  ls_local[SHIM6_RX_LOCS * 16];
	__u8  last_local[16]; /* locators of the last payload-header packet (SHIM_LOC_*_RECV) */
	__u8  last_peer[16];
};
_Static_assert(sizeof(struct shim6_rx) == 256, "shim6_rx size");

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

/* Gates, one element at index 0 of shim6_gates (user space's record). */
struct shim6_gates {
	__u32 flags;          /* SHIM6_GATE_* */
	__u32 pad;
};
_Static_assert(sizeof(struct shim6_gates) == 8, "shim6_gates size");

/* Object identity, one element at index 0 of shim6_abi. */
struct shim6_abi {
	__u32 magic;
	__u32 version;
};
_Static_assert(sizeof(struct shim6_abi) == 8, "shim6_abi size");

#endif
