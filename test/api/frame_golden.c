// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// frame_golden: the C side of the frame codec's golden-byte test
// (test/unit/api/frame.test.ts).
//   frame_golden encode      → one hex line per golden frame, built with lib/shim6_frame.c
//   frame_golden decode HEX  → "errno N" or "frame type flags seq version" then "attr type hexvalue" lines
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <shim6/shim.h>
#include "shim6_api.h"

static void hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void golden(void)
{
	uint8_t buf[SHIM6_API_MAX_FRAME];
	struct shim6_api_builder b;

	/* 1: NOOP request, no attributes. */
	shim6_api_init(&b, buf, sizeof(buf), SHIM6_API_NOOP, SHIM6_API_F_REQUEST, 1);
	hex(buf, shim6_api_finish(&b));

	/* 2: getsockopt(SHIM_ASSOCIATED) with a 4-byte buffer. */
	shim6_api_init(&b, buf, sizeof(buf), SHIM6_API_GETSOCKOPT, SHIM6_API_F_REQUEST, 0x01020304);
	shim6_api_put_u32(&b, SHIM6_API_A_LEVEL, SOL_SHIM);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTNAME, SHIM_ASSOCIATED);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTLEN, sizeof(int));
	hex(buf, shim6_api_finish(&b));

	/* 3: setsockopt(SHIM_LOC_PEER_SEND) with a locator (2001:db8:2:b::1, prio 1, weight 10). */
	struct shim_locator lc;
	memset(&lc, 0, sizeof(lc));
	lc.lc_family = AF_INET6;
	lc.lc_prio = 1;
	lc.lc_weight = 10;
	static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0xb, 0, 0, 0, 0, 0, 0, 0, 1};
	memcpy(&lc.lc_addr, a, 16);
	shim6_api_init(&b, buf, sizeof(buf), SHIM6_API_SETSOCKOPT, SHIM6_API_F_REQUEST, 7);
	shim6_api_put_u32(&b, SHIM6_API_A_LEVEL, SOL_SHIM);
	shim6_api_put_u32(&b, SHIM6_API_A_OPTNAME, SHIM_LOC_PEER_SEND);
	shim6_api_put(&b, SHIM6_API_A_OPTVAL, &lc, sizeof(lc));
	hex(buf, shim6_api_finish(&b));

	/* 4: an error reply with a 5-byte message (padding). */
	shim6_api_init(&b, buf, sizeof(buf), SHIM6_API_SETSOCKOPT, SHIM6_API_F_REPLY, 7);
	shim6_api_put_u32(&b, SHIM6_API_A_ERRNO, EUNVERIFIEDLOCATOR);
	shim6_api_put(&b, SHIM6_API_A_MESSAGE, "hello", 5);
	hex(buf, shim6_api_finish(&b));

	/* 5: an empty attribute. */
	shim6_api_init(&b, buf, sizeof(buf), SHIM6_API_GETSOCKOPT, SHIM6_API_F_REPLY, 0xffffffffu);
	shim6_api_put_u32(&b, SHIM6_API_A_ERRNO, 0);
	shim6_api_put(&b, SHIM6_API_A_OPTVAL, NULL, 0);
	hex(buf, shim6_api_finish(&b));
}

static void decode(const char *h)
{
	size_t n = strlen(h) / 2;
	uint8_t *p = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		p[i] = (uint8_t)v;
	}
	int e = shim6_api_check(p, n);
	if (e) {
		printf("errno %d\n", e);
		free(p);
		return;
	}
	struct shim6_api_hdr hd;
	memcpy(&hd, p, sizeof(hd));
	printf("frame %u %u %u %u\n", hd.type, hd.flags, hd.seq, hd.version);
	size_t off = SHIM6_API_HDRLEN;
	while (off < n) {
		struct shim6_api_attr at;
		memcpy(&at, p + off, sizeof(at));
		printf("attr %u ", at.type);
		hex(p + off + 4, at.len - 4u);
		off += SHIM6_API_ALIGN((size_t)at.len);
	}
	uint32_t v;
	if (shim6_api_get_u32(p, n, SHIM6_API_A_OPTNAME, &v) == 0)
		printf("optname %u\n", v);
	free(p);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "encode"))
		golden();
	else if (argc == 3 && !strcmp(argv[1], "decode"))
		decode(argv[2]);
	else
		return 2;
	return 0;
}
