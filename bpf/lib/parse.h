/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* lib/parse.h: IPv6 header parsing for tc programs. All bounds checks live
 * here. Offsets are from the start of the packet (the Ethernet header, as tc
 * programs see it on ingress and egress). Nothing here writes the packet. */
#ifndef SHIM6_LIB_PARSE_H
#define SHIM6_LIB_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in6.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../shim6_consts.h"

#define L3_OFF       ETH_HLEN
#define IP6_NH_OFF   (L3_OFF + 6)   /* ipv6hdr.nexthdr */
#define IP6_PLEN_OFF (L3_OFF + 4)   /* ipv6hdr.payload_len */
#define IP6_SRC_OFF  (L3_OFF + 8)
#define IP6_DST_OFF  (L3_OFF + 24)
#define IP6_END      (L3_OFF + 40)

#ifndef NEXTHDR_HOP
#define NEXTHDR_HOP      0
#define NEXTHDR_ROUTING  43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH     51
#define NEXTHDR_DEST     60
#define NEXTHDR_ICMP     58
#define NEXTHDR_NONE     59
#endif
#ifndef NEXTHDR_TCP
#define NEXTHDR_TCP      6
#define NEXTHDR_UDP      17
#endif

/* Result of walking an IPv6 extension-header chain. */
struct shim6_walk {
	__u32 ins;     /* end of the routing sublayer: where a payload header goes */
	__u32 nh_off;  /* offset of the Next Header byte naming the header at ins */
	__u32 ulp_off; /* offset of the upper-layer header (valid if ulp_ok) */
	__u8  nh;      /* protocol of the header at ins */
	__u8  ulp;     /* upper-layer protocol (or the last header reached) */
	__u8  ulp_ok;  /* ulp_off/ulp are the real upper layer (not a later fragment) */
	__u8  has_shim;/* a Shim6 header (140) is somewhere in the chain */
};

static __always_inline int is_ext_hdr(__u8 nh)
{
	return nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST ||
	       nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_AUTH;
}

/* TCP or UDP right after the fixed header: the common case, with no chain to
 * walk (shim6_walk_chain would stop at once), no payload header and no
 * ICMPv6 error to translate. */
static __always_inline int ulp_is_direct(__u8 first_nh)
{
	return first_nh == NEXTHDR_TCP || first_nh == NEXTHDR_UDP;
}

/* Walk the chain that starts after the fixed IPv6 header.
 * Returns 0, or -1 when a header runs past the packet (TRUNCATED), or -2 when
 * the chain is longer than SHIM6_MAX_EXTHDRS (EXTHDR_CHAIN). */
static __always_inline int shim6_walk_chain(struct __sk_buff *skb, __u8 first_nh,
					    struct shim6_walk *w)
{
	__u32 off = IP6_END, nh_off = IP6_NH_OFF;
	__u8 nh = first_nh;
	int in_routing = 1;

	w->ins = IP6_END;
	w->nh_off = IP6_NH_OFF;
	w->nh = nh;
	w->ulp_ok = 1;
	w->has_shim = 0;

	/* A loop, not unrolled: the common chains end in the first pass, and
	 * unrolling it eight times only made the programs a third bigger. */
#pragma clang loop unroll(disable)
	for (int i = 0; i < SHIM6_MAX_EXTHDRS; i++) {
		__u8 hdr[2];
		__u32 len;

		if (nh == SHIM6_NEXTHDR) {
			w->has_shim = 1;
			/* The payload header is 8 bytes; a control message ends the chain. */
			if (bpf_skb_load_bytes(skb, off, hdr, 2) < 0)
				return -1;
			if (in_routing) {
				w->ins = off;
				w->nh_off = nh_off;
				w->nh = nh;
			}
			w->ulp = nh;
			w->ulp_off = off;
			return 0;
		}
		if (!is_ext_hdr(nh)) {
			if (in_routing) {
				w->ins = off;
				w->nh_off = nh_off;
				w->nh = nh;
			}
			w->ulp = nh;
			w->ulp_off = off;
			return 0;
		}
		if (bpf_skb_load_bytes(skb, off, hdr, 2) < 0)
			return -1;
		if (nh == NEXTHDR_FRAGMENT) {
			__u8 frag[4];

			if (bpf_skb_load_bytes(skb, off, frag, 4) < 0)
				return -1;
			len = 8;
			/* Only the first fragment carries the upper-layer header. */
			if (((frag[2] << 8) | frag[3]) & 0xfff8)
				w->ulp_ok = 0;
		} else if (nh == NEXTHDR_AUTH) {
			len = ((__u32)hdr[1] + 2) * 4;
		} else {
			len = ((__u32)hdr[1] + 1) * 8;
		}
		if (in_routing) {
			/* RFC 5533 11.1: the payload header goes after Hop-by-Hop,
			 * Routing, and a Destination Options header that precedes a
			 * Routing header; before anything else. */
			int stays = nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING ||
				    (nh == NEXTHDR_DEST && hdr[0] == NEXTHDR_ROUTING);
			if (!stays) {
				in_routing = 0;
				w->ins = off;
				w->nh_off = nh_off;
				w->nh = nh;
			}
		}
		if (!w->ulp_ok) {
			w->ulp = hdr[0];
			w->ulp_off = off + len;
			return 0;
		}
		nh_off = off;
		nh = hdr[0];
		off += len;
	}
	return -2;
}

/* Bytes [off, off + len) of the linear part of the packet, or NULL when they
 * are not all there (then the caller falls back to bpf_skb_load_bytes, which
 * also reads paged data and reports truncation). off and len are constants. */
#define PKT_PTR(skb, off, len) ({						\
	void *__d = (void *)(long)(skb)->data;					\
	void *__e = (void *)(long)(skb)->data_end;				\
	__d + (off) + (len) <= __e ? __d + (off) : NULL;			\
})

static __always_inline int ipv6_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

/* fe80::/10 */
static __always_inline int ipv6_is_linklocal(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* ff00::/8 */
static __always_inline int ipv6_is_multicast(const __u8 *a)
{
	return a[0] == 0xff;
}

/* ICMPv6 Neighbor Discovery and MLD: link matters, never shimmed. */
static __always_inline int icmp6_is_nd_mld(__u8 type)
{
	return (type >= 130 && type <= 137) || type == 143;
}

static __always_inline __u64 shim6_tag_from(const __u8 *h)
{
	return ((__u64)(h[2] & 0x7f) << 40) | ((__u64)h[3] << 32) |
	       ((__u64)h[4] << 24) | ((__u64)h[5] << 16) | ((__u64)h[6] << 8) | h[7];
}

#endif
