/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* shim6_maps.h: map definitions only. Included by BPF programs, never by
 * user space. All maps are pinned by the loader under the pin directory. */
#ifndef SHIM6_MAPS_H
#define SHIM6_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "shim6_types.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shim6_abi);
} shim6_abi SEC(".maps");

/* Which gates user space opened (struct shim6_gates); not read by the
 * programs, which find the same facts in the records' flags. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shim6_gates);
} shim6_gates SEC(".maps");

/* Egress records at their home slot (see struct shim6_tx). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHIM6_TX_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE); /* the agent reads counters in place (maps.ts countersView) */
	__type(key, __u32);
	__type(value, struct shim6_tx);
} shim6_tx SEC(".maps");

/* Egress records of pairs whose home slot another pair holds. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shim6_ulid_key);
	__type(value, struct shim6_tx);
} shim6_ulid SEC(".maps");

/* Ingress records by context id (see struct shim6_rx). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_MMAPABLE); /* the agent reads counters in place (maps.ts countersView) */
	__type(key, __u32);
	__type(value, struct shim6_rx);
} shim6_rx SEC(".maps");

/* Context id -> the context (user space's record; the fast paths read the
 * copies in shim6_tx / shim6_rx, shim6_peer_in and ICMPv6 errors this). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct shim6_ctx);
} shim6_ctx SEC(".maps");

/* CT(local) -> context id: finds the shim6_rx record of a context whose id
 * is not SHIM6_TAG_SLOT(CT(local)). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u32);
} shim6_tag SEC(".maps");

/* CT(peer) -> context id: finds the context of an ICMPv6 error that quotes
 * a payload header we sent (RFC 5533 12.4). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u32);
} shim6_ptag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_LOCATORS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shim6_loc_key);
	__type(value, struct shim6_locator);
} shim6_loc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_UPLINKS * 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shim6_addr_key);
	__type(value, struct shim6_uplink);
} shim6_uplink SEC(".maps");

/* ULID pairs already reported without a context: one event per pair per
 * SHIM6_EVENT_HOLD_NS, so a busy flow does not flood the ring buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct shim6_ulid_key);
	__type(value, __u64);
} shim6_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHIM6_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} shim6_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHIM6_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} shim6_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct shim6_sock_policy);
} shim6_sock SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SHIM6_RINGBUF_BYTES);
} shim6_events SEC(".maps");

/* Ring-buffer records carry no type in the map definition: this read-only
 * anchor puts struct shim6_event into the object's BTF, so the generated
 * layout (src/generated/layout.ts) has its decoder like every other layout. */
const volatile struct shim6_event shim6_event_btf_anchor = {};

/* ULID pairs (fii as in shim6_ulid) whose TCP sockets were last reported in a
 * SHIM6_EV_TCP_RTO event, and when: one event per pair per
 * SHIM6_TCP_RTO_HOLD_NS. Written by shim6_sockops only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct shim6_ulid_key);
	__type(value, __u64);
} shim6_tcp_seen SEC(".maps");

/* Staged hot-standby pairs, by context id (struct shim6_standby). Written
 * by the agent, used and deleted by shim6_sockops. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHIM6_MAX_CONTEXTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct shim6_standby);
} shim6_standby SEC(".maps");

#endif
