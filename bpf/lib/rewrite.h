/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* lib/rewrite.h: grow, shrink and rewrite IPv6 packets in tc programs.
 *
 * Checksum contract: nothing here touches an upper-layer checksum. Shim6
 * keeps the ULP pseudo-header over the ULIDs end to end (RFC 5533 11), so
 * rewriting the addresses to locators and back needs no L4 fix-up. Stores on
 * ingress pass BPF_F_RECOMPUTE_CSUM so skb->csum stays right for
 * CHECKSUM_COMPLETE packets. */
#ifndef SHIM6_LIB_REWRITE_H
#define SHIM6_LIB_REWRITE_H

#include "parse.h"

/* Copy len bytes from src to dst (dst < src, so ascending order is safe
 * with overlap). len <= SHIM6_MAX_HDR_MOVE. */
static __always_inline int move_down(struct __sk_buff *skb, __u32 dst, __u32 src, __u32 len)
{
	__u32 done = 0;
	__u8 buf[8];

	for (int i = 0; i < SHIM6_MAX_HDR_MOVE / 8; i++) {
		if (done + 8 > len)
			break;
		if (bpf_skb_load_bytes(skb, src + done, buf, 8) < 0 ||
		    bpf_skb_store_bytes(skb, dst + done, buf, 8, 0) < 0)
			return -1;
		done += 8;
	}
	for (int i = 0; i < 7; i++) {
		if (done >= len)
			break;
		if (bpf_skb_load_bytes(skb, src + done, buf, 1) < 0 ||
		    bpf_skb_store_bytes(skb, dst + done, buf, 1, 0) < 0)
			return -1;
		done += 1;
	}
	return 0;
}

/* Copy len bytes from src to dst (dst > src: descending order). len is a
 * multiple of 8 (extension headers are), <= SHIM6_MAX_HDR_MOVE. */
static __always_inline int move_up8(struct __sk_buff *skb, __u32 dst, __u32 src, __u32 len,
				    __u64 csum_flags)
{
	__u8 buf[8];

	for (int i = 0; i < SHIM6_MAX_HDR_MOVE / 8; i++) {
		if (len < 8)
			break;
		len -= 8;
		if (bpf_skb_load_bytes(skb, src + len, buf, 8) < 0 ||
		    bpf_skb_store_bytes(skb, dst + len, buf, 8, csum_flags) < 0)
			return -1;
	}
	return 0;
}

static __always_inline int add_payload_len(struct __sk_buff *skb, int delta, __u64 csum_flags)
{
	__be16 plen;

	if (bpf_skb_load_bytes(skb, IP6_PLEN_OFF, &plen, 2) < 0)
		return -1;
	plen = bpf_htons(bpf_ntohs(plen) + delta);
	return bpf_skb_store_bytes(skb, IP6_PLEN_OFF, &plen, 2, csum_flags);
}

/* Insert the 8 bytes of hdr at offset ins (end of the routing sublayer) and
 * make the Next Header byte at nh_off name Shim6. The caller has set hdr[0]
 * to the protocol that was at ins. Grows GSO packets at the head when
 * gso_head is set (SHIM6_GSO_HEAD), so the kernel does not mark them for
 * re-validation; otherwise grows after the fixed IPv6 header. Returns a
 * SHIM6_DROP_* reason, 0 on success. */
static __always_inline int shim6_insert(struct __sk_buff *skb, __u32 ins, __u32 nh_off,
					const __u8 *hdr, int gso_head)
{
	__u32 move = ins - IP6_END;
	__u8 shim_nh = SHIM6_NEXTHDR;

	if (ins < IP6_END || move > SHIM6_MAX_HDR_MOVE)
		return SHIM6_DROP_EXTHDR_CHAIN;

	if (gso_head && skb->gso_size) {
		/* Room in front of the MAC header, then slide the headers
		 * (Ethernet, IPv6, routing sublayer) down into it. */
		if (bpf_skb_change_head(skb, SHIM6_PAYLOAD_HLEN, 0) < 0)
			return SHIM6_DROP_ADJUST_ROOM;
		if (move_down(skb, 0, SHIM6_PAYLOAD_HLEN, ins) < 0)
			return SHIM6_DROP_STORE;
	} else {
		__u64 flags = skb->gso_size ? BPF_F_ADJ_ROOM_FIXED_GSO : 0;

		if (bpf_skb_adjust_room(skb, SHIM6_PAYLOAD_HLEN, BPF_ADJ_ROOM_NET, flags) < 0)
			return SHIM6_DROP_ADJUST_ROOM;
		/* The gap opened at IP6_END; move the routing sublayer in front of it. */
		if (move && move_down(skb, IP6_END, IP6_END + SHIM6_PAYLOAD_HLEN, move) < 0)
			return SHIM6_DROP_STORE;
	}
	if (bpf_skb_store_bytes(skb, ins, hdr, SHIM6_PAYLOAD_HLEN, 0) < 0 ||
	    bpf_skb_store_bytes(skb, nh_off, &shim_nh, 1, 0) < 0 ||
	    add_payload_len(skb, SHIM6_PAYLOAD_HLEN, 0) < 0)
		return SHIM6_DROP_STORE;
	return 0;
}

/* Remove the 8-byte payload header at offset at and set the Next Header
 * byte at nh_off to next. Returns a SHIM6_DROP_* reason, 0 on success. */
static __always_inline int shim6_remove(struct __sk_buff *skb, __u32 at, __u32 nh_off, __u8 next)
{
	__u32 move = at - IP6_END;
	__u64 flags = skb->gso_size ? BPF_F_ADJ_ROOM_FIXED_GSO : 0;

	if (at < IP6_END || move > SHIM6_MAX_HDR_MOVE)
		return SHIM6_DROP_EXTHDR_CHAIN;
	if (move && move_up8(skb, IP6_END + SHIM6_PAYLOAD_HLEN, IP6_END, move,
			     BPF_F_RECOMPUTE_CSUM) < 0)
		return SHIM6_DROP_STORE;
	if (bpf_skb_adjust_room(skb, -SHIM6_PAYLOAD_HLEN, BPF_ADJ_ROOM_NET, flags) < 0)
		return SHIM6_DROP_ADJUST_ROOM;
	if (bpf_skb_store_bytes(skb, nh_off, &next, 1, BPF_F_RECOMPUTE_CSUM) < 0 ||
	    add_payload_len(skb, -SHIM6_PAYLOAD_HLEN, BPF_F_RECOMPUTE_CSUM) < 0)
		return SHIM6_DROP_STORE;
	return 0;
}

/* The payload header right after the fixed header (the common case) lets one
 * store rewrite everything that changes: Payload Length, Next Header, Hop
 * Limit (unchanged), both addresses and, on insertion, the payload header:
 * bytes [IP6_PLEN_OFF, IP6_END + 8). plen and hop_limit are the packet's
 * before the call, read by the caller. */
#define SHIM6_FIRST_LEN (IP6_END - IP6_PLEN_OFF)

static __always_inline void fill_first(__u8 *buf, __be16 plen, int delta, __u8 nexthdr,
				       __u8 hop_limit, const __u8 *src, const __u8 *dst)
{
	__u16 n = bpf_ntohs(plen) + delta;

	buf[0] = n >> 8;
	buf[1] = n;
	buf[2] = nexthdr;
	buf[3] = hop_limit;
	__builtin_memcpy(buf + 4, src, 16);
	__builtin_memcpy(buf + 20, dst, 16);
}

/* set_addrs(src, dst) then shim6_insert(IP6_END, IP6_NH_OFF, hdr, 0), in
 * two helper calls instead of six. Same bytes, same reasons. */
static __always_inline int shim6_insert_first(struct __sk_buff *skb, __be16 plen, __u8 hop_limit,
					      const __u8 *src, const __u8 *dst, const __u8 *hdr)
{
	__u8 buf[SHIM6_FIRST_LEN + SHIM6_PAYLOAD_HLEN], *p;
	__u64 flags = skb->gso_size ? BPF_F_ADJ_ROOM_FIXED_GSO : 0;

	fill_first(buf, plen, SHIM6_PAYLOAD_HLEN, SHIM6_NEXTHDR, hop_limit, src, dst);
	__builtin_memcpy(buf + SHIM6_FIRST_LEN, hdr, SHIM6_PAYLOAD_HLEN);
	if (bpf_skb_adjust_room(skb, SHIM6_PAYLOAD_HLEN, BPF_ADJ_ROOM_NET, flags) < 0)
		return SHIM6_DROP_ADJUST_ROOM;
	/* adjust_room left the headers in the (private) linear part: write them
	 * in place, no helper. L4 checksums stay as they are (egress). */
	p = PKT_PTR(skb, IP6_PLEN_OFF, sizeof(buf));
	if (p) {
		__builtin_memcpy(p, buf, sizeof(buf));
		return 0;
	}
	if (bpf_skb_store_bytes(skb, IP6_PLEN_OFF, buf, sizeof(buf), 0) < 0)
		return SHIM6_DROP_STORE;
	return 0;
}

/* shim6_remove(IP6_END, IP6_NH_OFF, next) then set_addrs(src, dst,
 * BPF_F_RECOMPUTE_CSUM), in two helper calls instead of six. */
static __always_inline int shim6_remove_first(struct __sk_buff *skb, __be16 plen, __u8 hop_limit,
					      __u8 next, const __u8 *src, const __u8 *dst)
{
	__u8 buf[SHIM6_FIRST_LEN];
	__u64 flags = skb->gso_size ? BPF_F_ADJ_ROOM_FIXED_GSO : 0;

	fill_first(buf, plen, -SHIM6_PAYLOAD_HLEN, next, hop_limit, src, dst);
	if (bpf_skb_adjust_room(skb, -SHIM6_PAYLOAD_HLEN, BPF_ADJ_ROOM_NET, flags) < 0)
		return SHIM6_DROP_ADJUST_ROOM;
	if (bpf_skb_store_bytes(skb, IP6_PLEN_OFF, buf, sizeof(buf), BPF_F_RECOMPUTE_CSUM) < 0)
		return SHIM6_DROP_STORE;
	return 0;
}

/* Write a source and destination address pair (32 bytes at IP6_SRC_OFF). */
static __always_inline int set_addrs(struct __sk_buff *skb, const __u8 *src, const __u8 *dst,
				     __u64 csum_flags)
{
	__u8 buf[32];

	__builtin_memcpy(buf, src, 16);
	__builtin_memcpy(buf + 16, dst, 16);
	return bpf_skb_store_bytes(skb, IP6_SRC_OFF, buf, 32, csum_flags) < 0 ? -1 : 0;
}

#endif
