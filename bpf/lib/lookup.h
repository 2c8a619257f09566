/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* lib/lookup.h: finding the fast-path records (struct shim6_tx by ULID pair,
 * struct shim6_rx by context tag) with one array read in the common case.
 * User space places the records with the same functions
 * (src/dataplane/maps.ts: pairSlot, tagSlot); the BPF test rows fail when
 * the two disagree. */
#ifndef SHIM6_LIB_LOOKUP_H
#define SHIM6_LIB_LOOKUP_H

#include "../shim6_types.h"
#include "parse.h"

/* Home slot of a (ULID pair, FII) in shim6_tx. The key is read as its four
 * little-endian 64-bit words and the FII. */
static __always_inline __u32 shim6_pair_slot(const struct shim6_ulid_key *k)
{
	const __u64 *w = (const __u64 *)k;
	__u64 h = w[0] * SHIM6_HASH_M0 ^ w[1] * SHIM6_HASH_M1 ^ w[2] * SHIM6_HASH_M2 ^
		  w[3] * SHIM6_HASH_M3 ^ (__u64)k->fii * SHIM6_HASH_M4;

	h ^= h >> 32;
	h *= SHIM6_HASH_MIX;
	return h >> (64 - SHIM6_TX_SLOT_BITS);
}

static __always_inline int tx_key_eq(const struct shim6_tx *t, const struct shim6_ulid_key *k)
{
	const __u64 *a = (const __u64 *)t->ulid_local, *b = (const __u64 *)k->ulid_local;

	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && t->fii == k->fii &&
	       t->id != 0;
}

/* The egress record of a (ULID pair, FII), or NULL: its home slot, or the
 * overflow hash when pairs hashing there live in it. k must be 8-aligned. */
static __always_inline struct shim6_tx *find_tx(const struct shim6_ulid_key *k)
{
	__u32 slot = shim6_pair_slot(k);
	struct shim6_tx *t = bpf_map_lookup_elem(&shim6_tx, &slot);

	if (!t)
		return NULL;
	if (tx_key_eq(t, k))
		return t;
	if (!t->overflow)
		return NULL;
	return bpf_map_lookup_elem(&shim6_ulid, k);
}

/* The ingress record of context tag ct, or NULL: the record at the tag's
 * preferred id, or the one shim6_tag names. */
static __always_inline struct shim6_rx *find_rx(__u64 ct)
{
	__u32 id = SHIM6_TAG_SLOT(ct);
	struct shim6_rx *r = bpf_map_lookup_elem(&shim6_rx, &id);
	__u32 *idp;

	if (r && r->id && r->ct_local == ct)
		return r;
	idp = bpf_map_lookup_elem(&shim6_tag, &ct);
	if (!idp)
		return NULL;
	id = *idp;
	r = bpf_map_lookup_elem(&shim6_rx, &id);
	return r && r->id && r->ct_local == ct ? r : NULL;
}

/* Is addr one of the n inline addresses of set (SHIM6_RX_LOCS at most)? */
static __always_inline int in_set(const __u8 *set, __u8 n, const __u8 *addr)
{
	const __u64 *a = (const __u64 *)addr;

#pragma clang loop unroll(full)
	for (int i = 0; i < SHIM6_RX_LOCS; i++) {
		const __u64 *s = (const __u64 *)(set + i * 16);

		if (i >= n)
			return 0;
		if (s[0] == a[0] && s[1] == a[1])
			return 1;
	}
	return 0;
}

#endif
