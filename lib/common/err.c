#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const lfs_msgs[] = {
	[1]  = "image is corrupt",
	[2]  = "bad magic: not a lightfs file",
	[3]  = "unsupported format version",
	[4]  = "image is in use",
	[5]  = "length out of range",
	[6]  = "read-only",
	[7]  = "truncated input",
	[8]  = "unsafe name or link target",
	[9]  = "result differs from the expected one",
	[10] = "compression failed",
	[11] = "internal error",
	[12] = "interrupted",
};

const char *lfs_strerror(int code)
{
	if (code <= -LFS_ERR_BASE) {
		int i = -code - LFS_ERR_BASE;
		if (i > 0 && i < (int)(sizeof lfs_msgs / sizeof lfs_msgs[0]) && lfs_msgs[i])
			return lfs_msgs[i];
		return "unknown lightfs error";
	}
	if (code < 0)
		return strerror(-code);
	return "success";
}

int lfs_seterr(struct lfs_err *err, int code, const char *fmt, ...)
{
	if (err && !err->msg[0]) { /* keep the first (innermost) cause */
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

const char *lfs_errmsg(const struct lfs_err *err, int code)
{
	if (err && err->msg[0])
		return err->msg;
	return lfs_strerror(code);
}
