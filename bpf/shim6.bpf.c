// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* shim6.bpf.c: the Shim6 fast path on tc.
 *
 *   shim6_egress   tc egress of the shim device (the peer ULID routes point
 *                  at it): socket policy, context lookup, ULID -> locator
 *                  rewrite, payload header insertion, redirect to the uplink.
 *   shim6_peer_in  tc ingress of the shim device, used in SHIM6_GSO_SEGMENT
 *                  mode: inserts the payload header into the segments of GSO
 *                  packets that went round through the veth peer, then
 *                  redirects them to the uplink.
 *   shim6_ingress  tc ingress of every uplink: strip payload headers, restore
 *                  ULIDs, translate ICMPv6 errors, stamp receive activity.
 *
 * Load-time settings are the const volatile globals below. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "shim6_consts.h"
#include "shim6_types.h"
#include "shim6_maps.h"
#include "lib/parse.h"
#include "lib/rewrite.h"
#include "lib/lookup.h"

#ifndef AF_INET6
#define AF_INET6 10
#endif

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* SHIM6_GSO_HEAD or SHIM6_GSO_SEGMENT: how payload headers get into GSO
 * packets (README, "GSO"). Set by the loader between open and load. */
const volatile __u32 cfg_gso_mode = SHIM6_GSO_SEGMENT;
/* SHIM6_GSO_SEGMENT: the shim device's veth peer, whose TSO/GSO are off. A
 * GSO packet that needs a payload header is rewritten and redirected to its
 * egress; the kernel segments it there, the segments come back in on the
 * shim device's ingress, where shim6_peer_in inserts the header. */
const volatile __u32 cfg_seg_ifindex = 0;
/* shim6_xdp is attached to the uplinks: shim6_ingress looks for its mark
 * (reading the metadata length touches a cache line the rest of the path
 * does not, so only then). */
const volatile __u32 cfg_xdp = 0;

static __always_inline void count_drop(__u32 reason)
{
	__u64 *c = bpf_map_lookup_elem(&shim6_drops, &reason);
	if (c)
		*c += 1;
}

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&shim6_counters, &which);
	if (c)
		*c += 1;
}

static __always_inline int drop(__u32 reason)
{
	count_drop(reason);
	return TC_ACT_SHOT;
}

/* Stamps are coarse (one tick, <= 4 ms at HZ = 250): REAP compares them at
 * 10 ms granularity or more. Same clock (CLOCK_MONOTONIC) as the events'
 * ts_ns. The coarse clock only moves when jiffies do, so it is read (a
 * helper call, the dearest part of counting) at the first packet of a
 * context in each tick; the others compare jiffies (inlined) and stop.
 * Counters live in the record the path already read (one cold line less
 * than a per-CPU map): atomic adds, as other CPUs may count the same context. */
static __always_inline void stamp(__u64 *ns, __u64 *jiffies)
{
	__u64 j = bpf_jiffies64();

	if (*jiffies == j)
		return;
	*jiffies = j;
	*ns = bpf_ktime_get_coarse_ns();
}

static __always_inline __u64 skb_pkts(struct __sk_buff *skb)
{
	return skb->gso_segs > 1 ? skb->gso_segs : 1;
}

static __always_inline void stats_tx(struct shim6_tx *t, struct __sk_buff *skb)
{
	__sync_fetch_and_add(&t->tx_packets, skb_pkts(skb));
	__sync_fetch_and_add(&t->tx_bytes, skb->len);
	stamp(&t->last_tx_ns, &t->last_tx_jiffies);
}

/* Unmodified packet on the ULID pair of t. */
static __always_inline void stats_rx_plain(struct shim6_tx *t, struct __sk_buff *skb)
{
	__sync_fetch_and_add(&t->rx_packets, skb_pkts(skb));
	__sync_fetch_and_add(&t->rx_bytes, skb->len);
	stamp(&t->last_rx_ns, &t->last_rx_jiffies);
}

/* Payload-header packets of r: pkts packets of bytes bytes (Ethernet header
 * and payload header included, as they arrived). */
static __always_inline void stats_rx(struct shim6_rx *r, __u64 pkts, __u64 bytes)
{
	__sync_fetch_and_add(&r->rx_packets, pkts);
	__sync_fetch_and_add(&r->rx_bytes, bytes);
	stamp(&r->last_rx_ns, &r->last_rx_jiffies);
}

/* The locator pair a payload-header packet of context r arrived on (RFC 6316
 * Table 2, SHIM_LOC_*_RECV), in r itself: written only when it differs.
 * Packets on the ULIDs are not recorded here: their stamp in the shim6_tx
 * record is newer then, and user space answers the ULIDs (maps.ts rxPair). */
static __always_inline void rx_pair(struct shim6_rx *r, const __u8 *local, const __u8 *peer)
{
	if (!(ipv6_addr_eq(r->last_local, local) && ipv6_addr_eq(r->last_peer, peer))) {
		__builtin_memcpy(r->last_local, local, 16);
		__builtin_memcpy(r->last_peer, peer, 16);
	}
}

static __always_inline void emit(__u32 type, __u32 ifindex, const __u8 *src,
				 const __u8 *dst, __u64 tag, __u64 cookie)
{
	struct shim6_event ev = {
		.type = type,
		.ifindex = ifindex,
		.ts_ns = bpf_ktime_get_ns(),
		.tag = tag,
		.cookie = cookie,
	};
	__builtin_memcpy(ev.src, src, 16);
	__builtin_memcpy(ev.dst, dst, 16);
	bpf_ringbuf_output(&shim6_events, &ev, sizeof(ev), 0);
}

/* At most one NO_CONTEXT event per ULID pair per SHIM6_EVENT_HOLD_NS. */
static __always_inline void emit_no_context(struct __sk_buff *skb, struct shim6_ulid_key *key,
					    __u64 cookie)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&shim6_seen, key);

	if (last && now - *last < SHIM6_EVENT_HOLD_NS)
		return;
	bpf_map_update_elem(&shim6_seen, key, &now, BPF_ANY);
	emit(SHIM6_EV_NO_CONTEXT, skb->ifindex, key->ulid_local, key->ulid_peer, 0, cookie);
}

/* Leave by uplink ifindex. The kernel looks the route up (oif = ifindex,
 * the packet's addresses, skb->mark): the magic mark skips the peer-ULID
 * table and selects the table of the source locator's uplink, so the next hop
 * and the route attached to the packet are the uplink's. (Passing the next
 * hop explicitly would keep the shim device's route on the packet, and a
 * packet queued behind neighbour resolution would then leave with the shim
 * device's link-layer address.) */
static __always_inline int out_via(struct __sk_buff *skb, __u32 ifindex)
{
	int ret;

	if (!ifindex)
		return drop(SHIM6_DROP_NO_UPLINK);
	skb->mark = SHIM6_MARK_MAGIC;
	ret = bpf_redirect_neigh(ifindex, NULL, 0, 0);
	if (ret != TC_ACT_REDIRECT)
		return drop(SHIM6_DROP_REDIRECT);
	return ret;
}

static __always_inline int out_by_source(struct __sk_buff *skb, const __u8 *src)
{
	struct shim6_uplink *up = bpf_map_lookup_elem(&shim6_uplink, src);

	if (!up)
		return drop(SHIM6_DROP_NO_UPLINK);
	return out_via(skb, up->ifindex);
}

static __always_inline void build_payload_hdr(__u8 *h, __u8 next, __u64 ct)
{
	h[0] = next;
	h[1] = 0;
	h[2] = 0x80 | ((ct >> 40) & 0x7f);
	h[3] = ct >> 32;
	h[4] = ct >> 24;
	h[5] = ct >> 16;
	h[6] = ct >> 8;
	h[7] = ct;
}



SEC("tc")
int shim6_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct shim6_sock_policy *pol = NULL;
	struct bpf_sock *sk = NULL;
	struct shim6_ulid_key key __attribute__((aligned(8)));
	struct shim6_walk w;
	struct ipv6hdr *ip6;
	struct shim6_tx *t;
	__u8 lp_local[16], lp_peer[16], hdr[SHIM6_PAYLOAD_HLEN], hop_limit;
	__be16 plen;
	__u32 ifindex;
	int err, same;

	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return TC_ACT_OK;
	if (data + IP6_END > data_end)
		return drop(SHIM6_DROP_TRUNCATED);
	ip6 = data + L3_OFF;

	/* Link matters for these: never shimmed, left to the shim device. */
	if (ipv6_is_multicast(ip6->daddr.s6_addr) || ipv6_is_linklocal(ip6->daddr.s6_addr) ||
	    ipv6_is_linklocal(ip6->saddr.s6_addr))
		return TC_ACT_OK;

	__builtin_memcpy(key.ulid_local, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(key.ulid_peer, ip6->daddr.s6_addr, 16);
	key.fii = 0;
	plen = ip6->payload_len;
	hop_limit = ip6->hop_limit;

	if (ulp_is_direct(ip6->nexthdr)) {
		/* TCP or UDP right after the fixed header: no chain to walk. */
		w.ins = IP6_END;
		w.nh_off = IP6_NH_OFF;
		w.nh = ip6->nexthdr;
	} else {
		err = shim6_walk_chain(skb, ip6->nexthdr, &w);
		if (err)
			return drop(err == -1 ? SHIM6_DROP_TRUNCATED : SHIM6_DROP_EXTHDR_CHAIN);
		if (w.ulp == NEXTHDR_ICMP && w.ulp_ok) {
			__u8 *tp = w.ulp_off == IP6_END ? PKT_PTR(skb, IP6_END, 1) : NULL;
			__u8 type;

			if (tp)
				type = *tp;
			else if (bpf_skb_load_bytes(skb, w.ulp_off, &type, 1) < 0)
				return drop(SHIM6_DROP_TRUNCATED);
			if (icmp6_is_nd_mld(type))
				return TC_ACT_OK;
		}
		/* Shim6 control messages and already-shimmed packets leave unchanged. */
		if (w.has_shim)
			return out_by_source(skb, key.ulid_local);
	}

	/* The context of the pair, then the socket's policy (DONTSHIM, FII,
	 * pinned locators) when policies are in use (the gate in the record;
	 * with no context always, as the policy may name a forked one). */
	t = find_tx(&key);
	if (!t || (t->flags & SHIM6_CTX_F_SOCK_POLICY)) {
		sk = skb->sk;
		if (sk)
			pol = bpf_sk_storage_get(&shim6_sock, sk, 0, 0);
		if (pol) {
			if (pol->flags & SHIM6_SOCK_F_DONTSHIM)
				return out_by_source(skb, key.ulid_local);
			if (pol->fii) {
				key.fii = pol->fii;
				t = find_tx(&key);
			}
		}
	}
	if (!t) {
		/* The socket's cookie, 0 when none (asked for only here). */
		emit_no_context(skb, &key, sk ? bpf_get_socket_cookie(skb) : 0);
		return out_by_source(skb, key.ulid_local);
	}
	if (!(t->flags & SHIM6_CTX_F_ACTIVE))
		return out_by_source(skb, key.ulid_local);

	__builtin_memcpy(lp_local, t->lp_local, 16);
	__builtin_memcpy(lp_peer, t->lp_peer, 16);
	ifindex = t->ifindex;
	if (pol && (pol->flags & SHIM6_SOCK_F_PIN_LOCAL)) {
		__builtin_memcpy(lp_local, pol->lp_local, 16);
		ifindex = 0; /* uplink of the pinned locator, below */
	}
	if (pol && (pol->flags & SHIM6_SOCK_F_PIN_PEER))
		__builtin_memcpy(lp_peer, pol->lp_peer, 16);
	stats_tx(t, skb);

	same = ipv6_addr_eq(lp_local, key.ulid_local) && ipv6_addr_eq(lp_peer, key.ulid_peer);
	if (same) {
		if (ifindex)
			return out_via(skb, ifindex);
		return out_by_source(skb, lp_local);
	}
	build_payload_hdr(hdr, w.nh, t->ct_peer);

	if (skb->gso_size && cfg_gso_mode == SHIM6_GSO_SEGMENT) {
		/* Rewrite only, and send the packet round through the veth peer
		 * (TSO/GSO off) to be segmented; shim6_peer_in inserts. */
		if (set_addrs(skb, lp_local, lp_peer, 0) < 0)
			return drop(SHIM6_DROP_STORE);
		skb->mark = SHIM6_MARK_MAGIC | SHIM6_MARK_INSERT | (t->id & SHIM6_MARK_CTX_MASK);
		count(SHIM6_CNT_GSO_LOOP_OUT);
		return bpf_redirect(cfg_seg_ifindex, 0);
	}

	{
		int gso_head = skb->gso_size && cfg_gso_mode == SHIM6_GSO_HEAD;

		if (skb->gso_size)
			count(SHIM6_CNT_GSO_HEAD);
		if (w.ins == IP6_END && !gso_head) {
			/* No routing sublayer: the common case, in one store. */
			err = shim6_insert_first(skb, plen, hop_limit, lp_local, lp_peer, hdr);
		} else {
			if (set_addrs(skb, lp_local, lp_peer, 0) < 0)
				return drop(SHIM6_DROP_STORE);
			err = shim6_insert(skb, w.ins, w.nh_off, hdr, gso_head);
		}
		if (err)
			return drop(err);
	}
	if (ifindex)
		return out_via(skb, ifindex);
	return out_by_source(skb, lp_local);
}

SEC("tc")
int shim6_peer_in(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u8 src[16], dst[16], hdr[SHIM6_PAYLOAD_HLEN], hop_limit;
	__be16 plen;
	struct shim6_walk w;
	struct ipv6hdr *ip6;
	struct shim6_ctx *ctx;
	__u32 mark = skb->mark, id;
	int err;

	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return TC_ACT_SHOT;
	if (data + IP6_END > data_end)
		return drop(SHIM6_DROP_TRUNCATED);
	ip6 = data + L3_OFF;
	if (ipv6_is_multicast(ip6->daddr.s6_addr) || ipv6_is_linklocal(ip6->daddr.s6_addr) ||
	    ipv6_is_linklocal(ip6->saddr.s6_addr))
		return TC_ACT_SHOT; /* the shim device's own link traffic ends here */
	__builtin_memcpy(src, ip6->saddr.s6_addr, 16);
	__builtin_memcpy(dst, ip6->daddr.s6_addr, 16);
	plen = ip6->payload_len;
	hop_limit = ip6->hop_limit;
	skb->mark = 0;

	if ((mark & SHIM6_MARK_MAGIC_MASK) == SHIM6_MARK_MAGIC && (mark & SHIM6_MARK_INSERT)) {
		id = mark & SHIM6_MARK_CTX_MASK;
		ctx = bpf_map_lookup_elem(&shim6_ctx, &id);
		if (!ctx)
			return drop(SHIM6_DROP_CTX_INACTIVE);
		err = shim6_walk_chain(skb, ip6->nexthdr, &w);
		if (err)
			return drop(err == -1 ? SHIM6_DROP_TRUNCATED : SHIM6_DROP_EXTHDR_CHAIN);
		build_payload_hdr(hdr, w.nh, ctx->ct_peer);
		/* No routing sublayer (the common case): one store, which writes
		 * the addresses back unchanged. */
		if (w.ins == IP6_END)
			err = shim6_insert_first(skb, plen, hop_limit, src, dst, hdr);
		else
			err = shim6_insert(skb, w.ins, w.nh_off, hdr, 0);
		if (err)
			return drop(err);
		count(SHIM6_CNT_GSO_LOOP_IN);
	}
	return out_by_source(skb, src);
}

/* ICMPv6 error quoting a packet we sent with a payload header (RFC 5533 8):
 * restore the ULIDs in the quoted header, strip the quoted payload header,
 * report Packet Too Big MTU - 8, fix the ICMPv6 checksum. Returns TC_ACT_OK
 * whether or not it translated. */
static __always_inline int translate_icmp_error(struct __sk_buff *skb, struct shim6_walk *w)
{
	__u32 icmp = w->ulp_off, q = icmp + 8;
	struct shim6_loc_key lk;
	struct shim6_ctx *ctx;
	struct shim6_rx *r;
	__u8 ih[8], qh[40], sh[8], ulids[32];
	__u32 *idp, id, w_old, w_new, len_old, len_new, mtu_old, mtu_new;
	__be16 plen;
	__s64 d;
	__u64 tag;
	int err;

	if (bpf_skb_load_bytes(skb, icmp, ih, 8) < 0)
		return TC_ACT_OK;
	if (ih[0] >= 128) /* informational */
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, q, qh, 40) < 0 || qh[6] != SHIM6_NEXTHDR)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, q + 40, sh, 8) < 0)
		return TC_ACT_OK; /* quote too short to hold the header: leave as is */
	if (!(sh[2] & 0x80))
		return TC_ACT_OK; /* quotes a control message: the agent's business */
	tag = shim6_tag_from(sh);
	idp = bpf_map_lookup_elem(&shim6_ptag, &tag);
	if (!idp)
		return TC_ACT_OK;
	id = *idp;
	ctx = bpf_map_lookup_elem(&shim6_ctx, &id);
	if (!ctx)
		return TC_ACT_OK;
	lk.ctx_id = id;
	lk.side = SHIM6_SIDE_LOCAL;
	__builtin_memcpy(lk.addr, qh + 8, 16);
	if (!bpf_map_lookup_elem(&shim6_loc, &lk))
		return TC_ACT_OK;
	lk.side = SHIM6_SIDE_PEER;
	__builtin_memcpy(lk.addr, qh + 24, 16);
	if (!bpf_map_lookup_elem(&shim6_loc, &lk))
		return TC_ACT_OK;
	__builtin_memcpy(ulids, ctx->ulid_local, 16);
	__builtin_memcpy(ulids + 16, ctx->ulid_peer, 16);

	/* Checksum delta, all 4-byte aligned and at even offsets in the message. */
	d = bpf_csum_diff((__be32 *)(qh + 8), 32, (__be32 *)ulids, 32, 0);
	__builtin_memcpy(&w_old, qh + 4, 4);
	plen = bpf_htons(bpf_ntohs(*(__be16 *)(qh + 4)) - SHIM6_PAYLOAD_HLEN);
	__builtin_memcpy(&w_new, &plen, 2);
	((__u8 *)&w_new)[2] = sh[0];
	((__u8 *)&w_new)[3] = qh[7];
	d = bpf_csum_diff(&w_old, 4, &w_new, 4, d);
	d = bpf_csum_diff((__be32 *)sh, 8, NULL, 0, d);
	len_old = bpf_htonl(skb->len - IP6_END);
	len_new = bpf_htonl(skb->len - IP6_END - SHIM6_PAYLOAD_HLEN);
	d = bpf_csum_diff(&len_old, 4, &len_new, 4, d);
	if (ih[0] == ICMPV6_PKT_TOOBIG) {
		__builtin_memcpy(&mtu_old, ih + 4, 4);
		mtu_new = bpf_htonl(bpf_ntohl(mtu_old) - SHIM6_PAYLOAD_HLEN);
		d = bpf_csum_diff(&mtu_old, 4, &mtu_new, 4, d);
		if (bpf_skb_store_bytes(skb, icmp + 4, &mtu_new, 4, 0) < 0)
			return drop(SHIM6_DROP_ICMP_QUOTE);
	}
	if (d < 0)
		return drop(SHIM6_DROP_ICMP_QUOTE);
	if (bpf_skb_store_bytes(skb, q + 8, ulids, 32, 0) < 0 ||
	    bpf_skb_store_bytes(skb, q + 4, &w_new, 4, 0) < 0)
		return drop(SHIM6_DROP_ICMP_QUOTE);
	/* Remove the quoted header; the Next Header fix is already in w_new. */
	err = shim6_remove(skb, q + 40, q + 6, sh[0]);
	if (err)
		return drop(err);
	if (bpf_l4_csum_replace(skb, icmp + 2, 0, d, 0) < 0)
		return drop(SHIM6_DROP_ICMP_QUOTE);
	/* Let the stack verify the result in software. */
	bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET);
	r = bpf_map_lookup_elem(&shim6_rx, &id);
	if (r && r->id == id)
		stats_rx(r, skb_pkts(skb), skb->len);
	return TC_ACT_OK;
}

/* Is addr in the locator set of side (SHIM6_SIDE_*) of context r? The
 * inline addresses first, shim6_loc when the set has more. */
static __always_inline int has_locator(struct shim6_rx *r, __u32 side, const __u8 *addr)
{
	struct shim6_loc_key lk;

	if (side == SHIM6_SIDE_PEER) {
		if (in_set(r->ls_peer, r->n_peer, addr))
			return 1;
		if (!(r->more & SHIM6_RX_MORE_PEER))
			return 0;
	} else {
		if (in_set(r->ls_local, r->n_local, addr))
			return 1;
		if (!(r->more & SHIM6_RX_MORE_LOCAL))
			return 0;
	}
	lk.ctx_id = r->id;
	lk.side = side;
	__builtin_memcpy(lk.addr, addr, 16);
	return bpf_map_lookup_elem(&shim6_loc, &lk) != NULL;
}

/* Responder side of a forked context (RFC 6316 Appendix A; DESIGN.md: outbound
 * by socket, inbound by tag): a TCP/UDP packet that arrived on forked
 * context fii, its ULIDs restored and nothing between the fixed header and
 * the transport header, belongs to a connected socket of ours. Give that
 * socket the fork's FII in its policy (socket-local storage, created here),
 * so what it sends leaves on the same forked context. A socket that has an
 * FII or SHIM_DONTSHIM already is left alone; listeners and unconnected UDP
 * sockets too (they serve many flows). */
static __always_inline void fork_claim(struct __sk_buff *skb, __u8 proto, __u32 fii)
{
	struct bpf_sock_tuple t = {};
	struct shim6_sock_policy *pol;
	struct bpf_sock *sk;
	__be16 ports[2];

	if (bpf_skb_load_bytes(skb, L3_OFF + 8, t.ipv6.saddr, 32) < 0 ||
	    bpf_skb_load_bytes(skb, IP6_END, ports, 4) < 0)
		return;
	t.ipv6.sport = ports[0];
	t.ipv6.dport = ports[1];
	if (proto == NEXTHDR_TCP)
		sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	else
		sk = bpf_sk_lookup_udp(skb, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return;
	if (sk->state == BPF_TCP_ESTABLISHED) {
		pol = bpf_sk_storage_get(&shim6_sock, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		if (pol && !pol->fii && !(pol->flags & SHIM6_SOCK_F_DONTSHIM))
			pol->fii = fii;
	}
	bpf_sk_release(sk);
}

/* Verdicts of rx_accept. */
#define RX_ACCEPT  0 /* strip the header and restore the ULIDs */
#define RX_STACK   1 /* control message (P = 0): the agent's raw socket */
#define RX_UNKNOWN 2 /* no context has the tag: event, then the stack */
#define RX_DROP    3 /* dropped, counted (and the event sent) */
#define RX_FORK    4 /* forked context and no_fork: left to tc (fork_claim), not counted */

/* What tc ingress (shim6_ingress) and XDP (shim6_xdp) both do with a payload
 * header sh of a packet from saddr to daddr, pkts packets of bytes bytes,
 * arrived on ifindex: find its context by CT(local), check that it accepts,
 * that saddr is in Ls(peer) and daddr in Ls(local), count and stamp it and
 * record the pair it came on. RX_ACCEPT sets *rp; the caller strips. */
static __always_inline int rx_accept(const __u8 *sh, const __u8 *saddr, const __u8 *daddr,
				     __u32 ifindex, __u64 pkts, __u64 bytes, int no_fork,
				     struct shim6_rx **rp)
{
	struct shim6_rx *r;
	__u64 tag;

	if (!(sh[2] & 0x80))
		return RX_STACK;
	if (sh[1] != 0) {
		count_drop(SHIM6_DROP_BAD_HLEN);
		return RX_DROP;
	}
	tag = shim6_tag_from(sh);
	r = find_rx(tag);
	if (!r)
		return RX_UNKNOWN;
	if (!(r->flags & SHIM6_CTX_F_INBOUND)) {
		count_drop(SHIM6_DROP_CTX_INACTIVE);
		return RX_DROP;
	}
	if (no_fork && r->fii)
		return RX_FORK;
	if (!has_locator(r, SHIM6_SIDE_PEER, saddr) || !has_locator(r, SHIM6_SIDE_LOCAL, daddr)) {
		emit(SHIM6_EV_BAD_LOCATOR, ifindex, saddr, daddr, tag, 0);
		count_drop(SHIM6_DROP_BAD_LOCATOR);
		return RX_DROP;
	}
	stats_rx(r, pkts, bytes);
	rx_pair(r, daddr, saddr);
	*rp = r;
	return RX_ACCEPT;
}

/* A payload header (copied into sh) at offset ins, named by the Next Header
 * byte at nh_off: check it, find its context, check the locators, strip it
 * and restore the ULIDs. ip6 points at the fixed header. */
static __always_inline int receive_payload(struct __sk_buff *skb, struct ipv6hdr *ip6,
					   const __u8 *sh, __u32 ins, __u32 nh_off)
{
	struct shim6_rx *r = NULL;
	__u8 ulids[32], hop_limit = ip6->hop_limit;
	__be16 plen = ip6->payload_len;
	__u32 fii;
	int err, v;

	v = rx_accept(sh, ip6->saddr.s6_addr, ip6->daddr.s6_addr, skb->ifindex, skb_pkts(skb),
		      skb->len, 0, &r);
	if (v == RX_UNKNOWN) {
		/* The agent answers with R1bis; the stack drops the packet. */
		emit(SHIM6_EV_UNKNOWN_TAG, skb->ifindex, ip6->saddr.s6_addr, ip6->daddr.s6_addr,
		     shim6_tag_from(sh), 0);
		return TC_ACT_OK;
	}
	if (v == RX_STACK)
		return TC_ACT_OK;
	if (v != RX_ACCEPT || !r)
		return TC_ACT_SHOT;
	__builtin_memcpy(ulids, r->ulid_peer, 16);
	__builtin_memcpy(ulids + 16, r->ulid_local, 16);
	fii = r->fii;
	if (ins == IP6_END) {
		err = shim6_remove_first(skb, plen, hop_limit, sh[0], ulids, ulids + 16);
		if (err)
			return drop(err);
	} else {
		err = shim6_remove(skb, ins, nh_off, sh[0]);
		if (err)
			return drop(err);
		if (set_addrs(skb, ulids, ulids + 16, BPF_F_RECOMPUTE_CSUM) < 0)
			return drop(SHIM6_DROP_STORE);
	}
	if (fii && ins == IP6_END && (sh[0] == NEXTHDR_TCP || sh[0] == NEXTHDR_UDP))
		fork_claim(skb, sh[0], fii);
	return TC_ACT_OK;
}

/* Unmodified packet on a ULID pair: the context is alive (RFC 5533 12.1). */
static __always_inline int rx_plain(struct __sk_buff *skb, struct ipv6hdr *ip6)
{
	struct shim6_ulid_key key __attribute__((aligned(8)));
	struct shim6_tx *t;

	__builtin_memcpy(key.ulid_local, ip6->daddr.s6_addr, 16);
	__builtin_memcpy(key.ulid_peer, ip6->saddr.s6_addr, 16);
	key.fii = 0;
	t = find_tx(&key);
	if (t)
		stats_rx_plain(t, skb);
	return TC_ACT_OK;
}

/* Did shim6_xdp strip this packet (SHIM6_XDP_META in its metadata)? */
static __always_inline int xdp_stripped(struct __sk_buff *skb)
{
	__u32 *meta = (void *)(long)skb->data_meta;

	return (void *)(meta + 1) <= (void *)(long)skb->data && *meta == SHIM6_XDP_META;
}

SEC("tc")
int shim6_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct shim6_walk w;
	struct ipv6hdr *ip6;
	__u8 sh[SHIM6_PAYLOAD_HLEN], *shp;
	__u32 ins = 0, nh_off = 0;
	int err;

	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return TC_ACT_OK;
	if (cfg_xdp && xdp_stripped(skb)) {
		/* shim6_xdp received it (checked, counted, stripped) before GRO. */
		count(SHIM6_CNT_XDP_SKB);
		return TC_ACT_OK;
	}
	if (data + IP6_END > data_end)
		return drop(SHIM6_DROP_TRUNCATED);
	ip6 = data + L3_OFF;
	if (ipv6_is_multicast(ip6->daddr.s6_addr) || ipv6_is_linklocal(ip6->saddr.s6_addr))
		return TC_ACT_OK;

	/* TCP or UDP right after the fixed header (the common case): straight
	 * to the ULID-pair lookup, as the general path below would end. */
	if (ulp_is_direct(ip6->nexthdr))
		return rx_plain(skb, ip6);

	/* Payload header right after the fixed header (the common case): read
	 * it in place, no walk. Otherwise, or when it is not in the linear part,
	 * walk the chain and copy it out. */
	shp = ip6->nexthdr == SHIM6_NEXTHDR ? PKT_PTR(skb, IP6_END, SHIM6_PAYLOAD_HLEN) : NULL;
	if (shp) {
		__builtin_memcpy(sh, shp, SHIM6_PAYLOAD_HLEN);
		ins = IP6_END;
		nh_off = IP6_NH_OFF;
	} else {
		err = shim6_walk_chain(skb, ip6->nexthdr, &w);
		if (err)
			return drop(err == -1 ? SHIM6_DROP_TRUNCATED : SHIM6_DROP_EXTHDR_CHAIN);
		if (w.has_shim && w.nh == SHIM6_NEXTHDR && w.ins == w.ulp_off) {
			if (bpf_skb_load_bytes(skb, w.ins, sh, SHIM6_PAYLOAD_HLEN) < 0)
				return drop(SHIM6_DROP_TRUNCATED);
			ins = w.ins;
			nh_off = w.nh_off;
		}
	}
	if (ins)
		return receive_payload(skb, ip6, sh, ins, nh_off);

	if (w.ulp == NEXTHDR_ICMP && w.ulp_ok) {
		err = translate_icmp_error(skb, &w);
		if (err != TC_ACT_OK)
			return err;
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		if (data + IP6_END > data_end)
			return TC_ACT_OK;
		ip6 = data + L3_OFF;
	}

	return rx_plain(skb, ip6);
}

/* ---- shim6_xdp: payload headers stripped before GRO --------------------------
 *
 * XDP on the uplinks (optional, `dataplane up --xdp`). GRO has no handler for
 * next header 140, so packets carrying a payload header reach TCP one segment
 * at a time when tc ingress strips them (after GRO). This program does what
 * shim6_ingress does for the common case, a payload header (P = 1) right
 * after the fixed header, with the same rx_accept, before GRO: the restored
 * TCP segments merge again. The Ethernet and IPv6 headers move 8 bytes up
 * over the payload header (the upper layer stays where it was, so a partial
 * checksum's offsets stay right); the ULIDs come back in the same store.
 * Everything else goes on to tc ingress unchanged (XDP_PASS): control
 * messages, unknown tags (tc sends the event), headers deeper in the chain,
 * ICMPv6 errors, forked contexts (tc gives their sockets the FII). What it
 * stripped carries SHIM6_XDP_META in the XDP metadata, and tc ingress leaves
 * it alone. */
SEC("xdp")
int shim6_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 head[IP6_PLEN_OFF], buf[SHIM6_FIRST_LEN], sh[SHIM6_PAYLOAD_HLEN], *p;
	struct shim6_rx *r = NULL;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	__u32 *meta;
	int v;

	if (data + IP6_END + SHIM6_PAYLOAD_HLEN > data_end)
		return XDP_PASS; /* tc counts the truncated ones */
	eth = data;
	ip6 = data + L3_OFF;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6) || ip6->nexthdr != SHIM6_NEXTHDR)
		return XDP_PASS;
	if (ipv6_is_multicast(ip6->daddr.s6_addr) || ipv6_is_linklocal(ip6->saddr.s6_addr))
		return XDP_PASS;
	__builtin_memcpy(sh, data + IP6_END, SHIM6_PAYLOAD_HLEN);
	if (!(sh[2] & 0x80))
		return XDP_PASS; /* control message */
	/* The packet must be what the header says: a shorter one goes to tc,
	 * which counts it. */
	if (data + IP6_END + bpf_ntohs(ip6->payload_len) > data_end)
		return XDP_PASS;
	v = rx_accept(sh, ip6->saddr.s6_addr, ip6->daddr.s6_addr, ctx->ingress_ifindex, 1,
		      data_end - data, 1, &r);
	if (v == RX_DROP)
		return XDP_DROP;
	if (v != RX_ACCEPT || !r)
		return XDP_PASS; /* RX_FORK: tc gives the socket the fork's FII */
	fill_first(buf, ip6->payload_len, -SHIM6_PAYLOAD_HLEN, sh[0], ip6->hop_limit, r->ulid_peer,
		   r->ulid_local);
	__builtin_memcpy(head, data, sizeof(head));
	if (bpf_xdp_adjust_head(ctx, SHIM6_PAYLOAD_HLEN) < 0) {
		count_drop(SHIM6_DROP_ADJUST_ROOM);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + IP6_END > data_end)
		return XDP_DROP; /* cannot happen: checked above */
	p = data;
	__builtin_memcpy(p, head, sizeof(head));
	__builtin_memcpy(p + IP6_PLEN_OFF, buf, sizeof(buf));
	count(SHIM6_CNT_XDP_STRIP);
	if (bpf_xdp_adjust_meta(ctx, -4) == 0) {
		meta = (void *)(long)ctx->data_meta;
		if ((void *)(meta + 1) <= (void *)(long)ctx->data)
			*meta = SHIM6_XDP_META;
	}
	return XDP_PASS;
}

/* Reference point for the benchmarks: the cheapest possible XDP program. */
SEC("xdp")
int shim6_xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Reference point for the benchmarks: the cheapest possible tc program. */
SEC("tc")
int shim6_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

/* Floors for the benchmarks (bench/dataplane.ts, context keys): the least
 * each path could cost, parts the behaviour cannot do without.
 * shim6_floor_read: read one fast-path record (any path that finds a
 * context, or finds there is none, reads one). */
SEC("tc")
int shim6_floor_read(struct __sk_buff *skb)
{
	__u32 id = SHIM6_TAG_SLOT_BASE | (skb->mark & SHIM6_MARK_CTX_MASK);
	struct shim6_rx *r = bpf_map_lookup_elem(&shim6_rx, &id);

	return r && r->id == id ? TC_ACT_SHOT : TC_ACT_OK;
}

/* shim6_floor_redirect: that, and leave by an uplink (egress, unshimmed). */
SEC("tc")
int shim6_floor_redirect(struct __sk_buff *skb)
{
	__u32 id = SHIM6_TAG_SLOT_BASE | (skb->mark & SHIM6_MARK_CTX_MASK);
	struct shim6_rx *r = bpf_map_lookup_elem(&shim6_rx, &id);

	if (r && r->id == id)
		return TC_ACT_SHOT;
	return bpf_redirect_neigh(1, NULL, 0, 0);
}

/* shim6_floor_insert: grow by a payload header, write the headers, leave by
 * an uplink; no lookup (egress shimmed, less finding the context). */
SEC("tc")
int shim6_floor_insert(struct __sk_buff *skb)
{
	__u8 a[16] = {}, hdr[SHIM6_PAYLOAD_HLEN] = {};

	if (shim6_insert_first(skb, 0, 64, a, a, hdr))
		return TC_ACT_SHOT;
	return bpf_redirect_neigh(1, NULL, 0, 0);
}

/* shim6_floor_strip: remove a payload header, write the headers; no lookup
 * (ingress shimmed, less finding the context and checking its locators). */
SEC("tc")
int shim6_floor_strip(struct __sk_buff *skb)
{
	__u8 a[16] = {};

	return shim6_remove_first(skb, 0, 64, NEXTHDR_TCP, a, a) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* ---- TCP feedback and recovery: shim6_sockops (cgroup v2 sock_ops) ----------
 *
 * Attached by the loader to a cgroup v2 (the root of the hierarchy by
 * default), so it sees the TCP sockets of every network namespace whose
 * processes live below that cgroup: it acts only on the sockets of the
 * namespace that loaded it (cfg_netns_cookie).
 *
 * - Every IPv6 TCP socket of the namespace asks for BPF_SOCK_OPS_RTO_CB and
 *   BPF_SOCK_OPS_RETRANS_CB at active open and at establishment (active and
 *   passive). Whether its ULID
 *   pair has a context is decided when an RTO fires: the context may be
 *   younger than the connection (deferred setup, RFC 5533 7.7).
 * - An RTO or a retransmission (tail-loss probe, fast retransmit) on a socket
 *   whose (local, remote, fii) has a context (find_tx) (never a
 *   SHIM_DONTSHIM socket) is negative feedback for REAP (RFC 5534 4.2): one
 *   SHIM6_EV_TCP_RTO event per ULID pair per SHIM6_TCP_RTO_HOLD_NS.
 * - Hot standby: at an RTO or a retransmission of such a socket, a context
 *   with a staged standby pair moves to it at once (standby_switch), and the
 *   agent hears of it (SHIM6_EV_STANDBY).
 * - Recovery: for the first cfg_tcp_rto_bounded consecutive RTOs of an
 *   outage the socket's TCP_RTO_MAX_MS is cfg_tcp_rto_max_ms, so once the
 *   shim has moved the context to a working locator pair TCP retransmits
 *   within that bound instead of sitting out an exponential backoff. Later
 *   RTOs put back the namespace default (cfg_tcp_rto_max_dflt): TCP's abort
 *   time (tcp_retries2) is modelled on the socket's RTO_MAX, and a permanent
 *   1 s bound would turn its ~15 minutes into ~15 seconds. The callback runs
 *   before TCP doubles the RTO, so the bound applies from the first backoff.
 *   A value the application chose itself (neither of the two) is left alone,
 *   and so are sockets in the handshake (SYN retries keep their timing). */
#ifndef SOL_TCP
#define SOL_TCP 6
#endif
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44 /* include/uapi/linux/tcp.h, since 6.15 */
#endif
#ifndef BPF_TCP_SYN_SENT
#define BPF_TCP_SYN_SENT 2
#define BPF_TCP_SYN_RECV 3
#endif

/* TCP_RTO_MAX_MS during the first RTOs of an outage, 0 = leave TCP alone. */
const volatile __u32 cfg_tcp_rto_max_ms = SHIM6_TCP_RTO_MAX_MS_DEFAULT;
/* How many consecutive RTOs get the bound (from tcp_retries2). */
const volatile __u32 cfg_tcp_rto_bounded = SHIM6_TCP_RTO_BOUNDED_DEFAULT;
/* The namespace's net.ipv4.tcp_rto_max_ms, put back after them. */
const volatile __u32 cfg_tcp_rto_max_dflt = 120000;
/* Network namespace of the loader (SO_NETNS_COOKIE); 0 matches nothing. */
const volatile __u64 cfg_netns_cookie = 0;

/* The socket's context (egress record), or NULL: key = (local, remote, fii). */
static __always_inline struct shim6_tx *sockops_ctx(struct bpf_sock_ops *skops, struct shim6_ulid_key *key)
{
	struct shim6_sock_policy *pol = NULL;
	struct bpf_sock *sk = skops->sk;
	__u32 *l = (__u32 *)key->ulid_local, *r = (__u32 *)key->ulid_peer;

	l[0] = skops->local_ip6[0];
	l[1] = skops->local_ip6[1];
	l[2] = skops->local_ip6[2];
	l[3] = skops->local_ip6[3];
	r[0] = skops->remote_ip6[0];
	r[1] = skops->remote_ip6[1];
	r[2] = skops->remote_ip6[2];
	r[3] = skops->remote_ip6[3];
	key->fii = 0;
	if (sk)
		pol = bpf_sk_storage_get(&shim6_sock, sk, 0, 0);
	if (pol) {
		if (pol->flags & SHIM6_SOCK_F_DONTSHIM)
			return NULL;
		key->fii = pol->fii;
	}
	return find_tx(key);
}

/* At an RTO: bound the backoff for the first cfg_tcp_rto_bounded RTOs of
 * the outage, TCP's own limit after them. */
static __always_inline void sockops_bound(struct bpf_sock_ops *skops)
{
	int bound = cfg_tcp_rto_max_ms, dflt = cfg_tcp_rto_max_dflt, cur = 0, want;

	if (!bound || skops->state == BPF_TCP_SYN_SENT || skops->state == BPF_TCP_SYN_RECV)
		return;
	if (bpf_getsockopt(skops, SOL_TCP, TCP_RTO_MAX_MS, &cur, sizeof(cur)) != 0) {
		count(SHIM6_CNT_TCP_BOUND_ERR);
		return;
	}
	if (cur != bound && cur != dflt)
		return; /* the application's own */
	want = skops->args[0] < cfg_tcp_rto_bounded ? bound : dflt;
	if (cur == want)
		return;
	if (bpf_setsockopt(skops, SOL_TCP, TCP_RTO_MAX_MS, &want, sizeof(want)) != 0)
		count(SHIM6_CNT_TCP_BOUND_ERR);
	else
		count(want == bound ? SHIM6_CNT_TCP_BOUND : SHIM6_CNT_TCP_UNBOUND);
}

static __always_inline void emit_tcp_rto(struct bpf_sock_ops *skops, struct shim6_ulid_key *key,
					 __u32 rtos)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&shim6_tcp_seen, key);
	struct shim6_event ev = {};

	if (last && now - *last < SHIM6_TCP_RTO_HOLD_NS)
		return;
	bpf_map_update_elem(&shim6_tcp_seen, key, &now, BPF_ANY);
	ev.type = SHIM6_EV_TCP_RTO;
	ev.ifindex = rtos;
	ev.ts_ns = now;
	ev.tag = (__u64)skops->snd_una << 32 | (__u64)(skops->local_port & 0xffff) << 16 |
		 (bpf_ntohl(skops->remote_port) & 0xffff);
	ev.cookie = bpf_get_socket_cookie(skops);
	__builtin_memcpy(ev.src, key->ulid_local, 16);
	__builtin_memcpy(ev.dst, key->ulid_peer, 16);
	bpf_ringbuf_output(&shim6_events, &ev, sizeof(ev), 0);
}

/* Hot standby (struct shim6_standby): move the context to its staged pair,
 * once, so that the retransmission the kernel is about to send (RTO) or
 * the next one (after a tail-loss probe or fast retransmit, which the
 * kernel reports after sending) leaves on a pair REAP verified in advance.
 * The context entry is replaced whole (a hash-map update is atomic for
 * readers: the egress program sees the old pair or the new one). */
static __always_inline void standby_switch(struct bpf_sock_ops *skops, struct shim6_tx *t)
{
	__u32 id = t->id;
	struct shim6_standby *sb = bpf_map_lookup_elem(&shim6_standby, &id);
	struct shim6_event ev = {};
	struct shim6_ctx *cur, next;

	if (!sb || bpf_ktime_get_ns() > sb->valid_until_ns)
		return;
	__builtin_memcpy(ev.src, sb->lp_local, 16);
	__builtin_memcpy(ev.dst, sb->lp_peer, 16);
	ev.ifindex = sb->ifindex;
	/* Whoever deletes the entry switches: one switch per staged pair even
	 * when sockets of the context retransmit on several CPUs at once. */
	if (bpf_map_delete_elem(&shim6_standby, &id) != 0)
		return;
	/* The egress record first (what packets read; written in place like
	 * user space does), then user space's copy of the context. */
	__builtin_memcpy(t->lp_local, ev.src, 16);
	__builtin_memcpy(t->lp_peer, ev.dst, 16);
	t->ifindex = ev.ifindex;
	cur = bpf_map_lookup_elem(&shim6_ctx, &id);
	if (cur) {
		__builtin_memcpy(&next, cur, sizeof(next));
		__builtin_memcpy(next.lp_local, ev.src, 16);
		__builtin_memcpy(next.lp_peer, ev.dst, 16);
		next.ifindex = ev.ifindex;
		bpf_map_update_elem(&shim6_ctx, &id, &next, BPF_EXIST);
	}
	count(SHIM6_CNT_STANDBY_SWITCH);
	ev.type = SHIM6_EV_STANDBY;
	ev.ts_ns = bpf_ktime_get_ns();
	ev.tag = id;
	ev.cookie = bpf_get_socket_cookie(skops);
	bpf_ringbuf_output(&shim6_events, &ev, sizeof(ev), 0);
}

SEC("sockops")
int shim6_sockops(struct bpf_sock_ops *skops)
{
	struct shim6_ulid_key key __attribute__((aligned(8)));
	__u32 op = skops->op;
	struct shim6_tx *t;

	if (op != BPF_SOCK_OPS_TCP_CONNECT_CB && op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB && op != BPF_SOCK_OPS_RTO_CB &&
	    op != BPF_SOCK_OPS_RETRANS_CB)
		return 1;
	if (skops->family != AF_INET6 || bpf_get_netns_cookie(skops) != cfg_netns_cookie)
		return 1;

	if (op != BPF_SOCK_OPS_RTO_CB && op != BPF_SOCK_OPS_RETRANS_CB) {
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_RTO_CB_FLAG |
					  BPF_SOCK_OPS_RETRANS_CB_FLAG);
		return 1;
	}
	t = sockops_ctx(skops, &key);
	if (!t)
		return 1;
	standby_switch(skops, t);
	if (op == BPF_SOCK_OPS_RETRANS_CB) {
		/* A tail-loss probe or fast retransmission: the first sign of a
		 * broken path, long before the RTO (which new data keeps pushing
		 * back). Feedback too, rtos = 0. */
		emit_tcp_rto(skops, &key, 0);
		return 1;
	}
	count(SHIM6_CNT_TCP_RTO);
	sockops_bound(skops);
	emit_tcp_rto(skops, &key, skops->args[0] + 1); /* args[0]: icsk_retransmits before this RTO */
	return 1;
}
