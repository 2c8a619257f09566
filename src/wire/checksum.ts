// The Shim6 control message checksum (RFC 5533 §5.3): the 16-bit one's
// complement of the one's complement sum of the entire Shim6 header, from its
// Next Header octet to the end given by Hdr Ext Len. No pseudo-header, and a
// payload that follows the header is not covered. Every Shim6 header is a
// multiple of 8 octets, so there is never an odd trailing byte; the odd case
// is still handled (zero-padded) so the function is total.

import { OFF_CHECKSUM } from './consts.js';

/** One's complement sum (folded to 16 bits) of buf[start, end). */
export function onesComplementSum(buf: Uint8Array, start: number, end: number): number {
  let sum = 0;
  let i = start;
  const even = end - ((end - start) & 1);
  // Messages are at most 2048 octets: 1024 words × 0xffff fits a double
  // exactly, so fold only at the end.
  for (; i < even; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Checksum value to store in octets 4–5 for the message buf[0, len): computed
 * with the checksum field taken as zero, whatever it currently holds.
 */
export function computeChecksum(buf: Uint8Array, len: number): number {
  let sum =
    onesComplementSum(buf, 0, OFF_CHECKSUM) + onesComplementSum(buf, OFF_CHECKSUM + 2, len);
  if (sum > 0xffff) sum = (sum & 0xffff) + 1;
  return ~sum & 0xffff;
}

/** Compute and store the checksum of the message buf[0, len). */
export function writeChecksum(buf: Uint8Array, len: number): void {
  const c = computeChecksum(buf, len);
  buf[OFF_CHECKSUM] = c >> 8;
  buf[OFF_CHECKSUM + 1] = c & 0xff;
}

/** True if the message buf[0, len) carries a valid checksum (the sum over it is 0xffff). */
export function verifyChecksum(buf: Uint8Array, len: number): boolean {
  return onesComplementSum(buf, 0, len) === 0xffff;
}
