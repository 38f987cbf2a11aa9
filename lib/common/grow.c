/* lib/common/grow.c — see grow.h. */
#include "grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int lfs_grow(void *pp, size_t *cap, size_t need, size_t sz, size_t min)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : (min ? min : 1);
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return -ENOMEM;
		nc *= 2;
	}
	if (sz && nc > SIZE_MAX / sz)
		return -ENOMEM;
	void *p;
	memcpy(&p, pp, sizeof p);            /* pp is a T **: no aliasing through void ** */
	void *np = realloc(p, nc * sz);
	if (!np)
		return -ENOMEM;
	memcpy(pp, &np, sizeof np);
	*cap = nc;
	return 0;
}
