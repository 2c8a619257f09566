/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* shim6_consts.h: sizes, flags, enums and the ABI version shared by the BPF
 * programs and user space. User space reads these through the generated
 * TypeScript mirror (src/generated/layout.ts); never copy them by hand. */
#ifndef SHIM6_CONSTS_H
#define SHIM6_CONSTS_H

/* ABI of the maps and events. Bump SHIM6_ABI_VERSION whenever a map key,
 * value or event layout changes: the loader refuses pinned maps of another
 * version instead of misreading them. */
#define SHIM6_ABI_MAGIC   0x53484936 /* "SHI6" */
#define SHIM6_ABI_VERSION 4

#define SHIM6_NEXTHDR        140 /* IANA protocol number for Shim6 */
#define SHIM6_PAYLOAD_HLEN   8   /* payload extension header, RFC 5533 5.2 */
#define SHIM6_CT_MASK        0x7fffffffffffULL /* 47-bit context tag */

#define SHIM6_MAX_CONTEXTS   65536
#define SHIM6_MAX_LOCATORS   (SHIM6_MAX_CONTEXTS * 8)
#define SHIM6_MAX_UPLINKS    64
#define SHIM6_MAX_EXTHDRS    8   /* extension headers walked before giving up */
#define SHIM6_RINGBUF_BYTES  (256 * 1024)
#define SHIM6_EVENT_HOLD_NS  1000000000ULL /* one NO_CONTEXT event per pair per second */
#define SHIM6_MAX_HDR_MOVE   256 /* routing-sublayer bytes moved around an insertion */

/* skb->mark: magic in the top bits. On packets the programs redirect to an
 * uplink it steers the kernel's route lookup past the peer-ULID table (ip
 * rules "not fwmark" / "fwmark ... from LOCATOR", set up by the loader). In
 * SHIM6_GSO_SEGMENT mode it also hands the context id and an "insert" flag
 * from the shim device's egress to its ingress. */
#define SHIM6_MARK_MAGIC     0x5e600000U
#define SHIM6_MARK_MAGIC_MASK 0xfff00000U
#define SHIM6_MARK_INSERT    0x00080000U
#define SHIM6_MARK_CTX_MASK  0x0000ffffU

/* Fast-path records (struct shim6_tx, struct shim6_rx; README "Per-packet
 * cost"). Each path reads one record of a large array per packet:
 *   egress  shim6_tx[slot], slot = shim6_pair_slot(ULID pair, FII): the
 *           "home" slot; a pair whose home is taken lives in the shim6_ulid
 *           hash (same record), found there when the home counts overflow.
 *   ingress shim6_rx[id]: the record of context id, at SHIM6_TAG_SLOT(CT)
 *           when the context's id was chosen from its tag (the agent does),
 *           otherwise found through shim6_tag.
 * Records are 256 bytes: 16 per page, none straddles one. */
#define SHIM6_TX_SLOT_BITS   16
#define SHIM6_TX_SLOTS       (1 << SHIM6_TX_SLOT_BITS)
#define SHIM6_RX_LOCS        4   /* locators per side held in struct shim6_rx */
#define SHIM6_RX_MORE_LOCAL  0x1 /* struct shim6_rx.more: Ls(local) has more than n_local */
#define SHIM6_RX_MORE_PEER   0x2 /* ... Ls(peer) has more than n_peer */
/* The id a context tag prefers: ids from here up are the agent's. */
#define SHIM6_TAG_SLOT_BASE  0x4000
#define SHIM6_TAG_SLOT(ct)   (((ct) & SHIM6_MARK_CTX_MASK) | SHIM6_TAG_SLOT_BASE)
/* shim6_pair_slot(): multiply-xor over the key's words (little-endian). */
#define SHIM6_HASH_M0        0x9e3779b97f4a7c15ULL
#define SHIM6_HASH_M1        0xc2b2ae3d27d4eb4fULL
#define SHIM6_HASH_M2        0x165667b19e3779f9ULL
#define SHIM6_HASH_M3        0xd6e8feb86659fd93ULL
#define SHIM6_HASH_M4        0xff51afd7ed558ccdULL
#define SHIM6_HASH_MIX       0xbf58476d1ce4e5b9ULL

/* struct shim6_ctx.flags */
#define SHIM6_CTX_F_ACTIVE   0x1 /* data plane may shim with this context */
#define SHIM6_CTX_F_INBOUND  0x2 /* accept payload headers (ESTABLISHED/I2-SENT/I2BIS-SENT) */
/* struct shim6_tx.flags only: sockets of this namespace may carry a policy
 * (SHIM6_GATE_SOCK_POLICY is open), so egress asks the socket's storage. */
#define SHIM6_CTX_F_SOCK_POLICY 0x4

/* struct shim6_gates.flags: features user space has turned on for good (the
 * programs see them as flags in the records they read anyway). */
#define SHIM6_GATE_SOCK_POLICY 0x1 /* a socket policy was written: records carry SHIM6_CTX_F_SOCK_POLICY */

/* struct shim6_loc_key.side */
#define SHIM6_SIDE_LOCAL     0
#define SHIM6_SIDE_PEER      1

/* struct shim6_locator.flags (data-plane view of a locator) */
#define SHIM6_LOC_F_VERIFIED 0x1 /* peer locator verified: may be used for sending */

/* struct shim6_sock_policy.flags, per socket (RFC 6316 options) */
#define SHIM6_SOCK_F_DONTSHIM   0x1 /* SHIM_DONTSHIM: never rewrite this socket */
#define SHIM6_SOCK_F_PIN_LOCAL  0x2 /* SHIM_LOC_LOCAL_SEND in effect */
#define SHIM6_SOCK_F_PIN_PEER   0x4 /* SHIM_LOC_PEER_SEND in effect */

/* Event types on the ring buffer */
#define SHIM6_EV_NO_CONTEXT   1 /* first packet of a ULID pair with no context */
#define SHIM6_EV_UNKNOWN_TAG  2 /* payload header with an unknown context tag */
#define SHIM6_EV_BAD_LOCATOR  3 /* payload header from a locator not in Ls(peer) */
#define SHIM6_EV_TCP_RTO      4 /* retransmission timeout or retransmission of a TCP socket on a
                                 * ULID pair with a context (sock_ops): negative feedback for
                                 * REAP (RFC 5534 4.2).
                                 * ifindex: consecutive RTOs of the socket (1 = first), 0 for a
                                 * retransmission without an RTO (tail-loss probe, fast retransmit);
                                 * tag: snd_una << 32 | local port << 16 | remote port;
                                 * src/dst: local/remote ULID; cookie: socket cookie. */
#define SHIM6_EV_STANDBY      5 /* shim6_sockops moved a context to its staged hot-standby pair
                                 * (shim6_standby) at a retransmission of one of its TCP sockets.
                                 * ifindex: the new uplink; tag: context id; src/dst: the new
                                 * pair (local, peer locator); cookie: socket cookie. */

/* Drop / exception reasons: stable numbers, retired ones stay reserved.
 * Counted per CPU in shim6_drops (index = reason). */
#define SHIM6_DROP_NONE            0 /* not a drop: index 0 counts handled packets */
#define SHIM6_DROP_TRUNCATED       1 /* header runs past the packet */
#define SHIM6_DROP_EXTHDR_CHAIN    2 /* extension-header chain too long */
#define SHIM6_DROP_BAD_LOCATOR     3 /* source not in Ls(peer) or dest not in Ls(local) */
#define SHIM6_DROP_CTX_INACTIVE    4 /* payload header for a context not accepting */
#define SHIM6_DROP_ADJUST_ROOM     5 /* kernel refused to grow or shrink the packet */
#define SHIM6_DROP_STORE           6 /* kernel refused a byte store */
#define SHIM6_DROP_NO_UPLINK       7 /* locator has no uplink to leave by */
#define SHIM6_DROP_BAD_HLEN        8 /* payload header with Hdr Ext Len != 0 */
#define SHIM6_DROP_REDIRECT        9 /* redirect_neigh failed */
#define SHIM6_DROP_ICMP_QUOTE     10 /* ICMPv6 error quoting a shimmed packet we cannot translate */
#define SHIM6_DROP_MAX            16

/* Event counters (not drops), per CPU in shim6_counters (index = counter).
 * GSO_LOOP_OUT / GSO_LOOP_IN are the GSO self-test: packets sent round the
 * shim device's veth peer to be segmented, and segments that came back. Out
 * without in means the kernel drops them (shim6ctl dataplane status). */
#define SHIM6_CNT_GSO_LOOP_OUT     0
#define SHIM6_CNT_GSO_LOOP_IN      1
#define SHIM6_CNT_GSO_HEAD         2 /* GSO packets grown at the head (head mode) */
#define SHIM6_CNT_TCP_BOUND        3 /* TCP RTO backoffs bounded (TCP_RTO_MAX_MS set, sock_ops) */
#define SHIM6_CNT_TCP_BOUND_ERR    4 /* bpf_{get,set}sockopt(TCP_RTO_MAX_MS) refused */
#define SHIM6_CNT_TCP_RTO          5 /* RTOs of TCP sockets on ULID pairs with a context */
#define SHIM6_CNT_TCP_UNBOUND      6 /* bounds lifted after SHIM6_TCP_RTO_BOUNDED RTOs */
#define SHIM6_CNT_STANDBY_SWITCH   7 /* contexts moved to their staged standby pair by shim6_sockops */
#define SHIM6_CNT_XDP_STRIP        8 /* payload headers stripped by shim6_xdp (one per packet, before GRO) */
#define SHIM6_CNT_XDP_SKB          9 /* skbs shim6_ingress saw marked by shim6_xdp (after GRO): fewer than
				       * XDP_STRIP when GRO merged the restored segments */
#define SHIM6_CNT_MAX             16

/* shim6_xdp marks what it stripped with 4 bytes of XDP metadata, so that
 * shim6_ingress (tc, after GRO) neither counts it again nor takes it for a
 * packet that arrived on the ULIDs. */
#define SHIM6_XDP_META 0x53364d44 /* "S6MD" */

/* GSO strategy, load-time setting (see README "GSO"). */
#define SHIM6_GSO_SEGMENT 0 /* kernel segments before insertion (shim pair, GSO off) */
#define SHIM6_GSO_HEAD    1 /* grow GSO skbs at the head, keep them whole */

/* TCP feedback and recovery (sock_ops program shim6_sockops, see there).
 * TCP_RTO_MAX_MS put on TCP sockets of shimmed ULID pairs for the first
 * RTOs of an outage, load-time setting; 0 leaves their RTO alone. The kernel
 * takes 1000..120000. How many RTOs: tcp_retries2 / 2 (loader), this when
 * unknown. */
#define SHIM6_TCP_RTO_MAX_MS_DEFAULT 1000
#define SHIM6_TCP_RTO_BOUNDED_DEFAULT 7
#define SHIM6_TCP_RTO_HOLD_NS 200000000ULL /* one TCP_RTO event per ULID pair per 200 ms */

#endif
