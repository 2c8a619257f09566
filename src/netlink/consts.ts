// rtnetlink constants, all in one place. Values are copied from the Linux
// UAPI headers (checked against /usr/include/linux/*.h, kernel 6.18 headers);
// each comment gives the kernel name and the header it comes from. They are
// ABI: the kernel never renumbers them.

// ---------------------------------------------------------------------------
// Address families (glibc <bits/socket.h>, mirroring include/linux/socket.h)

/** AF_UNSPEC (bits/socket.h: PF_UNSPEC 0). Family of ordinary link messages. */
export const AF_UNSPEC = 0;
/** AF_INET (bits/socket.h: PF_INET 2). */
export const AF_INET = 2;
/** AF_INET6 (bits/socket.h: PF_INET6 10). */
export const AF_INET6 = 10;
/** AF_BRIDGE (bits/socket.h: PF_BRIDGE 7). Bridge-port link messages use it. */
export const AF_BRIDGE = 7;
/** AF_NETLINK (bits/socket.h: PF_NETLINK 16). For the socket, not the codec. */
export const AF_NETLINK = 16;
/** NETLINK_ROUTE (linux/netlink.h): the rtnetlink protocol number. */
export const NETLINK_ROUTE = 0;

// ---------------------------------------------------------------------------
// linux/netlink.h: struct nlmsghdr and its control messages

/** sizeof(struct nlmsghdr) == NLMSG_HDRLEN: u32 len, u16 type, u16 flags, u32 seq, u32 pid. */
export const NLMSG_HDRLEN = 16;
/** NLMSG_ALIGNTO (linux/netlink.h). */
export const NLMSG_ALIGNTO = 4;

/** NLMSG_NOOP 0x1: nothing. */
export const NLMSG_NOOP = 0x1;
/** NLMSG_ERROR 0x2: error (or ACK when error == 0); body is struct nlmsgerr. */
export const NLMSG_ERROR = 0x2;
/** NLMSG_DONE 0x3: end of a multi-part dump; body is an int (dump status). */
export const NLMSG_DONE = 0x3;
/** NLMSG_OVERRUN 0x4: data lost. */
export const NLMSG_OVERRUN = 0x4;
/** NLMSG_MIN_TYPE 0x10: types below are reserved control messages. */
export const NLMSG_MIN_TYPE = 0x10;

/** sizeof(struct nlmsgerr) without payload: int error + struct nlmsghdr msg. */
export const NLMSGERR_LEN = 4 + NLMSG_HDRLEN;

// nlmsg_flags (linux/netlink.h)
/** NLM_F_REQUEST 0x01: it is a request message. */
export const NLM_F_REQUEST = 0x01;
/** NLM_F_MULTI 0x02: multipart message, terminated by NLMSG_DONE. */
export const NLM_F_MULTI = 0x02;
/** NLM_F_ACK 0x04: reply with ack, with zero or error code. */
export const NLM_F_ACK = 0x04;
/** NLM_F_ECHO 0x08: receive resulting notifications. */
export const NLM_F_ECHO = 0x08;
/** NLM_F_DUMP_INTR 0x10: dump was inconsistent due to sequence change. */
export const NLM_F_DUMP_INTR = 0x10;
/** NLM_F_DUMP_FILTERED 0x20: dump was filtered as requested. */
export const NLM_F_DUMP_FILTERED = 0x20;
/** NLM_F_ROOT 0x100 (GET requests): specify tree root. */
export const NLM_F_ROOT = 0x100;
/** NLM_F_MATCH 0x200 (GET requests): return all matching. */
export const NLM_F_MATCH = 0x200;
/** NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH. */
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** NLM_F_REPLACE 0x100 (NEW requests): override an existing object. */
export const NLM_F_REPLACE = 0x100;
/** NLM_F_EXCL 0x200 (NEW requests): fail with EEXIST if it exists. */
export const NLM_F_EXCL = 0x200;
/** NLM_F_CREATE 0x400 (NEW requests): create if it does not exist. */
export const NLM_F_CREATE = 0x400;
/** NLM_F_APPEND 0x800 (NEW requests): add to the end of the list (IPv6: an ECMP nexthop). */
export const NLM_F_APPEND = 0x800;
/** NLM_F_CAPPED 0x100 (on NLMSG_ERROR): the echoed request was cut to its header. */
export const NLM_F_CAPPED = 0x100;
/** NLM_F_ACK_TLVS 0x200 (on NLMSG_ERROR): extended-ACK TLVs follow. */
export const NLM_F_ACK_TLVS = 0x200;

/** enum nlmsgerr_attrs (linux/netlink.h): NLMSGERR_ATTR_MSG, a NUL-terminated string. */
export const NLMSGERR_ATTR_MSG = 1;
/** NLMSGERR_ATTR_OFFS: u32 offset of the offending attribute in the request. */
export const NLMSGERR_ATTR_OFFS = 2;

// Socket options (SOL_NETLINK, linux/netlink.h), for the socket owner.
/** NETLINK_ADD_MEMBERSHIP 1. */
export const NETLINK_ADD_MEMBERSHIP = 1;
/** NETLINK_CAP_ACK 10: do not echo the request in NLMSG_ERROR. */
export const NETLINK_CAP_ACK = 10;
/** NETLINK_EXT_ACK 11: add NLMSGERR_ATTR_* TLVs to NLMSG_ERROR. */
export const NETLINK_EXT_ACK = 11;
/** NETLINK_GET_STRICT_CHK 12: strict checking of GET/dump requests. */
export const NETLINK_GET_STRICT_CHK = 12;

// struct nlattr / struct rtattr type bits (linux/netlink.h)
/** NLA_F_NESTED (1 << 15). */
export const NLA_F_NESTED = 1 << 15;
/** NLA_F_NET_BYTEORDER (1 << 14). */
export const NLA_F_NET_BYTEORDER = 1 << 14;
/** NLA_TYPE_MASK ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER), as a 16-bit mask. */
export const NLA_TYPE_MASK = 0xffff & ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

// ---------------------------------------------------------------------------
// linux/rtnetlink.h

/** RTM_NEWLINK 16 (RTM_BASE). */
export const RTM_NEWLINK = 16;
/** RTM_DELLINK 17. */
export const RTM_DELLINK = 17;
/** RTM_GETLINK 18. */
export const RTM_GETLINK = 18;
/** RTM_NEWADDR 20. */
export const RTM_NEWADDR = 20;
/** RTM_DELADDR 21. */
export const RTM_DELADDR = 21;
/** RTM_GETADDR 22. */
export const RTM_GETADDR = 22;
/** RTM_NEWROUTE 24. */
export const RTM_NEWROUTE = 24;
/** RTM_DELROUTE 25. */
export const RTM_DELROUTE = 25;
/** RTM_GETROUTE 26. */
export const RTM_GETROUTE = 26;

/** sizeof(struct rtattr): unsigned short rta_len, rta_type. RTA_ALIGNTO is 4. */
export const RTA_HDRLEN = 4;
/** RTA_ALIGNTO (linux/rtnetlink.h). */
export const RTA_ALIGNTO = 4;

/** sizeof(struct rtmsg): u8 family, dst_len, src_len, tos, table, protocol, scope, type; u32 flags. */
export const RTMSG_LEN = 12;
/** sizeof(struct rtnexthop): u16 len, u8 flags, u8 hops, s32 ifindex (RTA_MULTIPATH entries). */
export const RTNEXTHOP_LEN = 8;

// enum rtattr_type_t (linux/rtnetlink.h): route attributes
/** RTA_DST 1: destination prefix (16 bytes for IPv6). */
export const RTA_DST = 1;
/** RTA_SRC 2: source prefix ("from", IPv6 subtrees). */
export const RTA_SRC = 2;
/** RTA_IIF 3: u32 input interface. */
export const RTA_IIF = 3;
/** RTA_OIF 4: u32 output interface. */
export const RTA_OIF = 4;
/** RTA_GATEWAY 5: next hop address. */
export const RTA_GATEWAY = 5;
/** RTA_PRIORITY 6: u32 metric ("metric" in ip route; IPv6 default 1024). */
export const RTA_PRIORITY = 6;
/** RTA_PREFSRC 7: preferred source address ("src" in ip route). */
export const RTA_PREFSRC = 7;
/** RTA_METRICS 8: nested RTAX_* u32 attributes. */
export const RTA_METRICS = 8;
/** RTA_MULTIPATH 9: array of struct rtnexthop, each followed by its attributes. */
export const RTA_MULTIPATH = 9;
/** RTA_CACHEINFO 12: struct rta_cacheinfo. */
export const RTA_CACHEINFO = 12;
/** RTA_TABLE 15: u32 routing table id (for ids above 255 rtm_table says RT_TABLE_COMPAT). */
export const RTA_TABLE = 15;
/** RTA_PREF 20: u8 router preference (ICMPV6_ROUTER_PREF_*). */
export const RTA_PREF = 20;
/** RTA_EXPIRES 23: expiry in clock ticks (IPv6 routes with a lifetime). */
export const RTA_EXPIRES = 23;

// RTAX_* (linux/rtnetlink.h), inside RTA_METRICS
/** RTAX_LOCK 1: bitmask of locked metrics. */
export const RTAX_LOCK = 1;
/** RTAX_MTU 2: u32 path MTU. */
export const RTAX_MTU = 2;

// enum RTN_* (linux/rtnetlink.h): rtm_type
/** RTN_UNSPEC 0. */
export const RTN_UNSPEC = 0;
/** RTN_UNICAST 1: gateway or direct route. */
export const RTN_UNICAST = 1;
/** RTN_LOCAL 2: accept locally (table local). */
export const RTN_LOCAL = 2;
/** RTN_ANYCAST 4. */
export const RTN_ANYCAST = 4;
/** RTN_MULTICAST 5. */
export const RTN_MULTICAST = 5;
/** RTN_BLACKHOLE 6: drop. */
export const RTN_BLACKHOLE = 6;
/** RTN_UNREACHABLE 7. */
export const RTN_UNREACHABLE = 7;
/** RTN_PROHIBIT 8. */
export const RTN_PROHIBIT = 8;
/** RTN_THROW 9. */
export const RTN_THROW = 9;

// rtm_protocol (linux/rtnetlink.h); values >= RTPROT_STATIC are not interpreted by the kernel.
/** RTPROT_UNSPEC 0 (on RTM_DELROUTE: match any protocol). */
export const RTPROT_UNSPEC = 0;
/** RTPROT_REDIRECT 1: ICMP redirect. */
export const RTPROT_REDIRECT = 1;
/** RTPROT_KERNEL 2: installed by the kernel (connected and local routes). */
export const RTPROT_KERNEL = 2;
/** RTPROT_BOOT 3: "installed during boot"; iproute2's default for ip route add. */
export const RTPROT_BOOT = 3;
/** RTPROT_STATIC 4: installed by the administrator. */
export const RTPROT_STATIC = 4;
/** RTPROT_RA 9: router advertisement. */
export const RTPROT_RA = 9;
/**
 * Not UAPI: the rtm_protocol of routes encodeRouteRequest adds unless told
 * otherwise. 140 is Shim6's IP protocol number, unused in rtnetlink.h and
 * /etc/iproute2/rt_protos, so `ip -6 route show proto 140` / `flush proto 140`
 * find exactly the agent's routes and its own route notifications can be told apart.
 */
export const RTPROT_SHIM6 = 140;

// enum rt_class_t (linux/rtnetlink.h): rtm_table
/** RT_TABLE_UNSPEC 0 (on requests: main unless RTA_TABLE says otherwise). */
export const RT_TABLE_UNSPEC = 0;
/** RT_TABLE_COMPAT 252: rtm_table of dumped routes whose table id is above 255 (RTA_TABLE has it). */
export const RT_TABLE_COMPAT = 252;
/** RT_TABLE_DEFAULT 253. */
export const RT_TABLE_DEFAULT = 253;
/** RT_TABLE_MAIN 254. */
export const RT_TABLE_MAIN = 254;
/** RT_TABLE_LOCAL 255. */
export const RT_TABLE_LOCAL = 255;

/** RTM_F_CLONED 0x200 (rtm_flags): a cached clone / route exception. */
export const RTM_F_CLONED = 0x200;

/** sizeof(struct ifinfomsg): u8 family, u8 pad, u16 type, s32 index, u32 flags, u32 change. */
export const IFINFOMSG_LEN = 16;

// Legacy multicast group bits for sockaddr_nl.nl_groups (linux/rtnetlink.h)
/** RTMGRP_LINK 1. */
export const RTMGRP_LINK = 0x1;
/** RTMGRP_IPV6_IFADDR 0x100. */
export const RTMGRP_IPV6_IFADDR = 0x100;
/** RTMGRP_IPV6_ROUTE 0x400. */
export const RTMGRP_IPV6_ROUTE = 0x400;
// enum rtnetlink_groups, for NETLINK_ADD_MEMBERSHIP (linux/rtnetlink.h)
/** RTNLGRP_LINK 1. */
export const RTNLGRP_LINK = 1;
/** RTNLGRP_IPV6_IFADDR 9. */
export const RTNLGRP_IPV6_IFADDR = 9;
/** RTNLGRP_IPV6_ROUTE 11. */
export const RTNLGRP_IPV6_ROUTE = 11;

// enum rt_scope_t (linux/rtnetlink.h); IPv6 ifa_scope uses these values.
/** RT_SCOPE_UNIVERSE 0: global. */
export const RT_SCOPE_UNIVERSE = 0;
/** RT_SCOPE_SITE 200. */
export const RT_SCOPE_SITE = 200;
/** RT_SCOPE_LINK 253. */
export const RT_SCOPE_LINK = 253;
/** RT_SCOPE_HOST 254: e.g. ::1. */
export const RT_SCOPE_HOST = 254;
/** RT_SCOPE_NOWHERE 255. */
export const RT_SCOPE_NOWHERE = 255;

// ---------------------------------------------------------------------------
// linux/if_addr.h

/** sizeof(struct ifaddrmsg): u8 family, u8 prefixlen, u8 flags, u8 scope, u32 index. */
export const IFADDRMSG_LEN = 8;

// enum IFA_* (linux/if_addr.h)
/** IFA_ADDRESS 1: prefix address (the peer on point-to-point links). */
export const IFA_ADDRESS = 1;
/** IFA_LOCAL 2: local address, when it differs from IFA_ADDRESS. */
export const IFA_LOCAL = 2;
/** IFA_LABEL 3: NUL-terminated string (IPv4 only in practice). */
export const IFA_LABEL = 3;
/** IFA_CACHEINFO 6: struct ifa_cacheinfo { u32 ifa_prefered, ifa_valid, cstamp, tstamp }. */
export const IFA_CACHEINFO = 6;
/** IFA_FLAGS 8: u32 that extends ifa_flags; "if present, the value from struct ifaddrmsg will be ignored". */
export const IFA_FLAGS = 8;
/** IFA_PROTO 11: u8 address protocol (IFAPROT_*). */
export const IFA_PROTO = 11;

/** sizeof(struct ifa_cacheinfo). */
export const IFA_CACHEINFO_LEN = 16;
/** INFINITY_LIFE_TIME (include/net/addrconf.h, not UAPI): lifetime "forever". */
export const INFINITY_LIFE_TIME = 0xffffffff;

// ifa_flags (linux/if_addr.h)
/** IFA_F_SECONDARY 0x01 (== IFA_F_TEMPORARY for IPv6). */
export const IFA_F_SECONDARY = 0x01;
/** IFA_F_TEMPORARY 0x01 (RFC 8981 temporary address). */
export const IFA_F_TEMPORARY = IFA_F_SECONDARY;
/** IFA_F_NODAD 0x02. */
export const IFA_F_NODAD = 0x02;
/** IFA_F_OPTIMISTIC 0x04 (RFC 4429). */
export const IFA_F_OPTIMISTIC = 0x04;
/** IFA_F_DADFAILED 0x08. */
export const IFA_F_DADFAILED = 0x08;
/** IFA_F_HOMEADDRESS 0x10. */
export const IFA_F_HOMEADDRESS = 0x10;
/** IFA_F_DEPRECATED 0x20. */
export const IFA_F_DEPRECATED = 0x20;
/** IFA_F_TENTATIVE 0x40. */
export const IFA_F_TENTATIVE = 0x40;
/** IFA_F_PERMANENT 0x80. */
export const IFA_F_PERMANENT = 0x80;
/** IFA_F_MANAGETEMPADDR 0x100 (only in IFA_FLAGS). */
export const IFA_F_MANAGETEMPADDR = 0x100;
/** IFA_F_NOPREFIXROUTE 0x200 (only in IFA_FLAGS). */
export const IFA_F_NOPREFIXROUTE = 0x200;
/** IFA_F_MCAUTOJOIN 0x400 (only in IFA_FLAGS). */
export const IFA_F_MCAUTOJOIN = 0x400;
/** IFA_F_STABLE_PRIVACY 0x800 (only in IFA_FLAGS). */
export const IFA_F_STABLE_PRIVACY = 0x800;

// ---------------------------------------------------------------------------
// linux/if_link.h: enum IFLA_*

/** IFLA_ADDRESS 1: link-layer address. */
export const IFLA_ADDRESS = 1;
/** IFLA_IFNAME 3: NUL-terminated interface name (< IFNAMSIZ 16 bytes). */
export const IFLA_IFNAME = 3;
/** IFLA_MTU 4: u32. */
export const IFLA_MTU = 4;
/** IFLA_OPERSTATE 16: u8, enum IF_OPER_* (RFC 2863). */
export const IFLA_OPERSTATE = 16;

// ---------------------------------------------------------------------------
// linux/if.h

/** IFNAMSIZ 16. */
export const IFNAMSIZ = 16;

// enum net_device_flags (linux/if.h)
/** IFF_UP 1<<0: administratively up. */
export const IFF_UP = 0x1;
/** IFF_LOOPBACK 1<<3. */
export const IFF_LOOPBACK = 0x8;
/** IFF_RUNNING 1<<6: RFC 2863 OPER_UP. */
export const IFF_RUNNING = 0x40;
/** IFF_LOWER_UP 1<<16: driver signals L1 up (carrier). */
export const IFF_LOWER_UP = 0x10000;
/** IFF_DORMANT 1<<17. */
export const IFF_DORMANT = 0x20000;

// enum IF_OPER_* (linux/if.h), the value of IFLA_OPERSTATE
/** IF_OPER_UNKNOWN 0 (lo and many virtual devices report this while working). */
export const IF_OPER_UNKNOWN = 0;
/** IF_OPER_NOTPRESENT 1. */
export const IF_OPER_NOTPRESENT = 1;
/** IF_OPER_DOWN 2. */
export const IF_OPER_DOWN = 2;
/** IF_OPER_LOWERLAYERDOWN 3. */
export const IF_OPER_LOWERLAYERDOWN = 3;
/** IF_OPER_TESTING 4. */
export const IF_OPER_TESTING = 4;
/** IF_OPER_DORMANT 5. */
export const IF_OPER_DORMANT = 5;
/** IF_OPER_UP 6. */
export const IF_OPER_UP = 6;
