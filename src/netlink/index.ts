// rtnetlink codec and address table (pure; the socket lives in the native addon).

export * from './consts.js';
export {
  HOST_LITTLE_ENDIAN,
  addrFlags,
  decodeMessages,
  encodeDumpRequest,
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
} from './codec.js';
export { AddressTable, isEmptyDiff } from './table.js';
export type { AddressInfo, LinkInfo, UsableDiff } from './table.js';
