// Shim6 context core (RFC 5533): pure state machine, no I/O.
//
//   consts.ts     states and timer constants (RFC 5533 §6.2, §14)
//   types.ts      configuration, inputs, snapshots, actions
//   host.ts       ShimHost: dispatch (§12.4), establishment and recovery
//                 (§7, Appendix B), updates (§10), timers, teardown (§9)
//   context.ts    the per-context record and its snapshot
//   locators.ts   local announcements and peer locator verification (HBA/CGA)
//   validator.ts  stateless R1/R1bis Responder Validators, rotating secret
//   persist.ts    contexts across an agent restart (export / validated import)
//   timers.ts     due-time heap
//   random.ts     draws from the injected random source

export { ShimHost } from './host.js';
export { ContextState, DEFAULT_TIMERS, VALIDATOR_LENGTH, type TimerConfig } from './consts.js';
export { locatorSetFromHbaSet } from './locator-set.js';
export type * from './types.js';
