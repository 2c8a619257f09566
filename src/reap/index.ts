// REAP (RFC 5534): failure detection and locator pair exploration, pure.
//
//   constants.ts    RFC 5534 §7 numbers and this implementation's defaults
//   types.ts        pairs, locators, traffic samples, actions
//   addr-select.ts  RFC 6724 pair ordering (policy table, scope, labels, prefixes)
//   options.ts      ReapContext options, defaults, validation
//   context.ts      ReapContext: the state machine of one context
//   heap.ts         indexed min-heap of deadlines
//   scheduler.ts    ReapScheduler: many contexts, one timer
//   pair.ts         pair keys and formatting

export * from './constants.js';
export type {
  Arrival,
  FeedbackKind,
  LocalLocator,
  Pair,
  PeerLocator,
  ProbePurpose,
  ReapAction,
  ReapActionType,
  ReapState,
  TrafficSample,
} from './types.js';
export {
  DEFAULT_POLICY_TABLE,
  Scope,
  commonPrefixLen,
  isV4Mapped,
  localUsable,
  orderPairs,
  peerUsable,
  policyOf,
  scopeOf,
  type PairOrderOptions,
  type PolicyEntry,
} from './addr-select.js';
export { ReapContext, type ReapContextInit, type ReapSnapshot } from './context.js';
export type { ReapOptions } from './options.js';
export { DeadlineHeap } from './heap.js';
export { ReapScheduler, type ScheduledActions, type TickStats } from './scheduler.js';
export { formatPair, pairKey, samePair } from './pair.js';
