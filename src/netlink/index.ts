// rtnetlink codec and address table (pure; the socket lives in the native addon).

export * from './consts.js';
export {
  HOST_LITTLE_ENDIAN,
  addrFlags,
  decodeMessages,
  encodeAddrRequest,
  encodeDumpRequest,
  encodeRouteRequest,
  isDadFailed,
  isDeprecated,
  isLinkUp,
  isTentative,
  linkFlags,
  nlAlign,
  walkAttrs,
} from './codec.js';
export type {
  AddrEvent,
  AddrFlagSet,
  AddrRequest,
  Attr,
  AttrWalk,
  DoneEvent,
  ErrorEvent,
  IgnoredEvent,
  LinkEvent,
  LinkFlagSet,
  MalformedEvent,
  NetlinkEvent,
  OverrunEvent,
  RouteEvent,
  RouteNexthop,
  RouteRequest,
} from './codec.js';
export { NetlinkError, NetlinkRequests, errnoName } from './requests.js';
export { AddressTable, isEmptyDiff } from './table.js';
export type { AddressInfo, LinkInfo, UsableDiff } from './table.js';
