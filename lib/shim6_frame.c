// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_frame.c: the API socket's frame codec (lib/shim6_api.h), the C twin
// of src/api/frame.ts. Pure; never reads past the buffer it is given.
#include <errno.h>
#include <string.h>

#include "shim6_api.h"

void shim6_api_init(struct shim6_api_builder *b, void *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq)
{
	b->buf = buf;
	b->cap = cap;
	b->len = SHIM6_API_HDRLEN;
	b->overflow = cap < SHIM6_API_HDRLEN;
	if (b->overflow)
		return;
	struct shim6_api_hdr h = {
		.len = 0, .type = type, .flags = flags, .seq = seq,
		.version = SHIM6_API_VERSION, .reserved = 0,
	};
	memcpy(b->buf, &h, sizeof(h));
}

void shim6_api_put(struct shim6_api_builder *b, uint16_t type, const void *val, size_t len)
{
	size_t alen = SHIM6_API_ATTR_HDRLEN + len;
	if (b->overflow || alen > 0xffff || SHIM6_API_ALIGN(alen) > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	struct shim6_api_attr a = { .len = (uint16_t)alen, .type = type };
	memcpy(b->buf + b->len, &a, sizeof(a));
	if (len)
		memcpy(b->buf + b->len + SHIM6_API_ATTR_HDRLEN, val, len);
	memset(b->buf + b->len + alen, 0, SHIM6_API_ALIGN(alen) - alen);
	b->len += SHIM6_API_ALIGN(alen);
}

void shim6_api_put_u32(struct shim6_api_builder *b, uint16_t type, uint32_t v)
{
	shim6_api_put(b, type, &v, sizeof(v));
}

size_t shim6_api_nest_start(struct shim6_api_builder *b, uint16_t type)
{
	size_t mark = b->len;
	shim6_api_put(b, type, NULL, 0);
	return mark;
}

void shim6_api_nest_end(struct shim6_api_builder *b, size_t mark)
{
	if (b->overflow)
		return;
	size_t alen = b->len - mark;
	if (alen > 0xffff) {
		b->overflow = 1;
		return;
	}
	uint16_t l = (uint16_t)alen;
	memcpy(b->buf + mark, &l, sizeof(l));
}

size_t shim6_api_finish(struct shim6_api_builder *b)
{
	if (b->overflow || b->len > SHIM6_API_MAX_FRAME)
		return 0;
	uint32_t len = (uint32_t)b->len;
	memcpy(b->buf, &len, sizeof(len));
	return b->len;
}

int shim6_api_check(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct shim6_api_hdr h;
	if (len > SHIM6_API_MAX_FRAME)
		return EMSGSIZE;
	if (len < SHIM6_API_HDRLEN)
		return EBADMSG;
	memcpy(&h, p, sizeof(h));
	if (h.len != len || len % 4)
		return EBADMSG;
	if (h.version != SHIM6_API_VERSION)
		return EPROTONOSUPPORT;
	size_t off = SHIM6_API_HDRLEN;
	while (off < len) {
		struct shim6_api_attr a;
		if (len - off < SHIM6_API_ATTR_HDRLEN)
			return EBADMSG;
		memcpy(&a, p + off, sizeof(a));
		if (a.len < SHIM6_API_ATTR_HDRLEN || SHIM6_API_ALIGN((size_t)a.len) > len - off)
			return EBADMSG;
		off += SHIM6_API_ALIGN((size_t)a.len);
	}
	return 0;
}

const void *shim6_api_find(const void *buf, size_t len, uint16_t type, size_t *vlen)
{
	const uint8_t *p = buf;
	size_t off = SHIM6_API_HDRLEN;
	while (off + SHIM6_API_ATTR_HDRLEN <= len) {
		struct shim6_api_attr a;
		memcpy(&a, p + off, sizeof(a));
		if (a.len < SHIM6_API_ATTR_HDRLEN || SHIM6_API_ALIGN((size_t)a.len) > len - off)
			return NULL;
		if (a.type == type) {
			if (vlen)
				*vlen = a.len - SHIM6_API_ATTR_HDRLEN;
			return p + off + SHIM6_API_ATTR_HDRLEN;
		}
		off += SHIM6_API_ALIGN((size_t)a.len);
	}
	return NULL;
}

int shim6_api_get_u32(const void *buf, size_t len, uint16_t type, uint32_t *out)
{
	size_t vlen = 0;
	const void *v = shim6_api_find(buf, len, type, &vlen);
	if (!v || vlen != sizeof(*out))
		return -1;
	memcpy(out, v, sizeof(*out));
	return 0;
}
