// IPv6 addresses as 16-byte arrays for the map layouts: the codec's parser
// and RFC 5952 formatter (src/wire/addr.ts), with errors as Shim6Error.
import { Shim6Error } from '../errors.js';
import { parseIpv6, formatIpv6, addrEqual } from '../wire/addr.js';

export function parseIPv6(text: string): Uint8Array {
  const b = parseIpv6(text.trim().replace(/%.*$/, ''));
  if (!b) throw new Shim6Error('SHIM6_ERR_USAGE', `not an IPv6 address: '${text}'`);
  return b;
}

export const formatIPv6 = formatIpv6;
export const addrEq = addrEqual;
