// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/* blackhole.bpf.c: drops every IPv6 packet. Tests attach it to a router's
 * interface to make a path fail silently (no netem on these machines). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

SEC("tc")
int blackhole(struct __sk_buff *skb)
{
	return skb->protocol == bpf_htons(ETH_P_IPV6) ? TC_ACT_SHOT : TC_ACT_OK;
}
