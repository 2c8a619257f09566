// AddressTable: the host's IPv6 addresses and links as seen through rtnetlink
// events, and which of them are usable as Shim6 locators. Pure state: feed it
// decoded events (a dump, then notifications) and it says what changed.

import { formatIpv6 } from '../wire/addr.js';
import { RT_SCOPE_UNIVERSE } from './consts.js';
import { type AddrEvent, type LinkEvent, type NetlinkEvent, addrFlags, isLinkUp } from './codec.js';

/** One address as the table reports it. */
export interface AddressInfo {
  readonly ifindex: number;
  /** Link name, once a link event for ifindex was seen. */
  readonly ifname?: string;
  /** RFC 5952 text. */
  readonly address: string;
  /** The same address, 16 bytes (a copy). */
  readonly bytes: Uint8Array;
  readonly prefixLen: number;
  /** ifa_scope (0 global, 253 link, 254 host). */
  readonly scope: number;
  /** IFA_F_* flags. */
  readonly flags: number;
  readonly deprecated: boolean;
  readonly tentative: boolean;
  readonly dadfailed: boolean;
  /** The link is up (IFF_UP and IFF_RUNNING); true while no link event for ifindex was seen. */
  readonly up: boolean;
  /** Usable as a locator: global scope, not tentative, not dadfailed, link up. Deprecated ones still count. */
  readonly usable: boolean;
  readonly preferredLft?: number;
  readonly validLft?: number;
}

/** One link as the table knows it. */
export interface LinkInfo {
  readonly ifindex: number;
  readonly name: string;
  /** IFF_* flags. */
  readonly flags: number;
  readonly up: boolean;
  readonly operstate?: number;
  readonly mtu?: number;
}

/**
 * Change in the set of usable addresses: `added` became usable, `removed`
 * stopped being usable (deleted, went tentative/dadfailed, link down),
 * `changed` stayed usable but its prefix length, deprecated flag or link
 * name changed. Lifetime refreshes alone are not changes.
 */
export interface UsableDiff {
  readonly added: AddressInfo[];
  readonly removed: AddressInfo[];
  readonly changed: AddressInfo[];
}

export function isEmptyDiff(d: UsableDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0;
}

interface StoredAddr {
  readonly ifindex: number;
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly prefixLen: number;
  readonly scope: number;
  readonly flags: number;
  readonly preferredLft?: number;
  readonly validLft?: number;
}

/** Linux keys an IPv6 address by (device, address): the prefix length is an attribute. */
function addrKey(ifindex: number, text: string): string {
  return `${ifindex}/${text}`;
}

export class AddressTable {
  readonly #addrs = new Map<string, StoredAddr>();
  readonly #links = new Map<number, LinkInfo>();

  /** Apply one event; returns the change to the usable set (empty for events that do not touch it). */
  apply(ev: NetlinkEvent): UsableDiff {
    return this.applyAll([ev]);
  }

  /** Apply events in order; returns the net change to the usable set. */
  applyAll(events: Iterable<NetlinkEvent>): UsableDiff {
    const list = [...events];
    // Routes (the agent's own, mostly), acks and the like: no state, no snapshots.
    if (!list.some((ev) => ev.kind === 'addr' || ev.kind === 'link')) return { added: [], removed: [], changed: [] };
    const before = this.#usableSnapshot();
    for (const ev of list) this.#applyOne(ev);
    return diff(before, this.#usableSnapshot());
  }

  /** Whether the table holds this address on this link (in any state). */
  has(ifindex: number, address: Uint8Array): boolean {
    return this.#addrs.has(addrKey(ifindex, formatIpv6(address)));
  }

  /**
   * Replace the whole state with a fresh dump (after NLMSG_OVERRUN, ENOBUFS
   * or an interrupted dump); returns the net change against the old state.
   */
  resync(events: Iterable<NetlinkEvent>): UsableDiff {
    const before = this.#usableSnapshot();
    this.#addrs.clear();
    this.#links.clear();
    for (const ev of events) this.#applyOne(ev);
    return diff(before, this.#usableSnapshot());
  }

  /** Every known IPv6 address (usable or not), sorted by ifindex then address bytes. */
  addresses(): AddressInfo[] {
    const out: AddressInfo[] = [];
    for (const a of this.#addrs.values()) out.push(this.#info(a));
    return out.sort(compareInfo);
  }

  /** The usable addresses only (see AddressInfo.usable). */
  usable(): AddressInfo[] {
    return this.addresses().filter((a) => a.usable);
  }

  /** Every known link, sorted by ifindex. */
  links(): LinkInfo[] {
    return [...this.#links.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  link(ifindex: number): LinkInfo | undefined {
    return this.#links.get(ifindex);
  }

  #applyOne(ev: NetlinkEvent): void {
    if (ev.kind === 'addr') this.#applyAddr(ev);
    else if (ev.kind === 'link') this.#applyLink(ev);
    // done / error / overrun / ignored / malformed carry no state.
  }

  #applyAddr(ev: AddrEvent): void {
    const text = formatIpv6(ev.address);
    const key = addrKey(ev.ifindex, text);
    if (ev.op === 'del') {
      this.#addrs.delete(key);
      return;
    }
    this.#addrs.set(key, {
      ifindex: ev.ifindex,
      bytes: ev.address.slice(),
      text,
      prefixLen: ev.prefixLen,
      scope: ev.scope,
      flags: ev.flags,
      ...(ev.preferredLft !== undefined ? { preferredLft: ev.preferredLft } : {}),
      ...(ev.validLft !== undefined ? { validLft: ev.validLft } : {}),
    });
  }

  #applyLink(ev: LinkEvent): void {
    if (ev.op === 'del') {
      this.#links.delete(ev.ifindex);
      // The kernel sends RTM_DELADDR for each address first; drop leftovers anyway.
      for (const [k, a] of this.#addrs) if (a.ifindex === ev.ifindex) this.#addrs.delete(k);
      return;
    }
    this.#links.set(ev.ifindex, {
      ifindex: ev.ifindex,
      name: ev.name,
      flags: ev.flags,
      up: isLinkUp(ev.flags),
      ...(ev.operstate !== undefined ? { operstate: ev.operstate } : {}),
      ...(ev.mtu !== undefined ? { mtu: ev.mtu } : {}),
    });
  }

  #info(a: StoredAddr): AddressInfo {
    const link = this.#links.get(a.ifindex);
    const f = addrFlags(a.flags);
    const up = link ? link.up : true;
    const usable = a.scope === RT_SCOPE_UNIVERSE && !f.tentative && !f.dadfailed && up;
    return {
      ifindex: a.ifindex,
      ...(link ? { ifname: link.name } : {}),
      address: a.text,
      bytes: a.bytes.slice(),
      prefixLen: a.prefixLen,
      scope: a.scope,
      flags: a.flags,
      deprecated: f.deprecated,
      tentative: f.tentative,
      dadfailed: f.dadfailed,
      up,
      usable,
      ...(a.preferredLft !== undefined ? { preferredLft: a.preferredLft } : {}),
      ...(a.validLft !== undefined ? { validLft: a.validLft } : {}),
    };
  }

  #usableSnapshot(): Map<string, AddressInfo> {
    const m = new Map<string, AddressInfo>();
    for (const [k, a] of this.#addrs) {
      const info = this.#info(a);
      if (info.usable) m.set(k, info);
    }
    return m;
  }
}

function diff(before: Map<string, AddressInfo>, after: Map<string, AddressInfo>): UsableDiff {
  const added: AddressInfo[] = [];
  const removed: AddressInfo[] = [];
  const changed: AddressInfo[] = [];
  for (const [k, a] of after) {
    const b = before.get(k);
    if (!b) added.push(a);
    else if (b.prefixLen !== a.prefixLen || b.deprecated !== a.deprecated || b.ifname !== a.ifname) changed.push(a);
  }
  for (const [k, b] of before) if (!after.has(k)) removed.push(b);
  return { added: added.sort(compareInfo), removed: removed.sort(compareInfo), changed: changed.sort(compareInfo) };
}

function compareInfo(a: AddressInfo, b: AddressInfo): number {
  if (a.ifindex !== b.ifindex) return a.ifindex - b.ifindex;
  for (let i = 0; i < 16; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i];
  return 0;
}
