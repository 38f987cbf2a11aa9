/* lib/replay/sbuf.c — the growing string the renderers append to. */
#include "replay/replay.h"
#include "common/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_grow(struct lfs_sbuf *sb, size_t more)
{
	if (sb->oom)
		return -1;
	if (lfs_grow(&sb->buf, &sb->cap, sb->len + more + 1, 1, 1024) < 0) {
		sb->oom = 1;
		return -1;
	}
	return 0;
}

void lfs_sbuf_add(struct lfs_sbuf *sb, const char *s, size_t n)
{
	if (sb_grow(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void lfs_sbuf_addf(struct lfs_sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		lfs_sbuf_add(sb, tmp, (size_t)n);
		return;
	}
	if (sb_grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void lfs_sbuf_free(struct lfs_sbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof *sb);
}
