/*
 * cmd/trace_btf.c — find a type id in the kernel's BTF (/sys/kernel/btf/
 * vmlinux) by kind and name, by one linear walk over the raw type section.
 *
 * `trace record` needs one id, the attach target of its BTF tracepoint
 * (typedef btf_trace_sys_exit).  libbpf would find it by parsing and
 * indexing the whole 6 MB BTF (~50 ms, more on a loaded machine); reading
 * the file and stepping over the records takes a few ms.  Any record kind
 * this walker does not know makes it give up (0), and the recorder falls
 * back to its raw tracepoint program.
 */
#include "trace_btf.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct btf_hdr {
	uint16_t magic;          /* 0xeB9F */
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len;
	uint32_t str_off, str_len;
};

struct btf_rec {
	uint32_t name_off;
	uint32_t info;           /* vlen 0..15, kind 24..28, kflag 31 */
	uint32_t size_or_type;
};

/* bytes after struct btf_rec for a record of this kind (vlen entries);
 * -1 for a kind this walker does not know */
static long btf_extra(unsigned kind, unsigned vlen)
{
	switch (kind) {
	case 1:  return 4;                 /* INT */
	case 2:  return 0;                 /* PTR */
	case 3:  return 12;                /* ARRAY */
	case 4: case 5: return 12l * vlen; /* STRUCT, UNION: members */
	case 6:  return 8l * vlen;         /* ENUM */
	case 7: case 8: case 9: case 10: case 11: case 12:
		return 0;                  /* FWD TYPEDEF VOLATILE CONST RESTRICT FUNC */
	case 13: return 8l * vlen;         /* FUNC_PROTO: params */
	case 14: return 4;                 /* VAR */
	case 15: return 12l * vlen;        /* DATASEC */
	case 16: return 0;                 /* FLOAT */
	case 17: return 4;                 /* DECL_TAG */
	case 18: return 0;                 /* TYPE_TAG */
	case 19: return 12l * vlen;        /* ENUM64 */
	}
	return -1;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	size_t cap = fstat(fd, &st) == 0 && st.st_size > 0 ? (size_t)st.st_size + 1 : 8u << 20;
	uint8_t *buf = malloc(cap);
	size_t n = 0;
	while (buf) {
		if (n == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			buf = NULL;
		} else if (r == 0) {
			break;
		} else {
			n += (size_t)r;
		}
	}
	close(fd);
	*len = n;
	return buf;
}

int lfs_btf_find_id(const char *path, unsigned kind, const char *name)
{
	size_t len;
	uint8_t *b = read_all(path, &len);
	if (!b)
		return 0;
	int id = 0;
	struct btf_hdr h;
	if (len < sizeof h)
		goto out;
	memcpy(&h, b, sizeof h);
	if (h.magic != 0xeB9F || h.hdr_len < sizeof h || h.hdr_len > len ||
	    h.type_off > len - h.hdr_len || h.type_len > len - h.hdr_len - h.type_off ||
	    h.str_off > len - h.hdr_len || h.str_len > len - h.hdr_len - h.str_off)
		goto out;
	const uint8_t *t = b + h.hdr_len + h.type_off, *end = t + h.type_len;
	const char *str = (const char *)b + h.hdr_len + h.str_off;
	size_t nlen = strlen(name) + 1;
	for (int cur = 1; t < end; cur++) {
		struct btf_rec r;
		if ((size_t)(end - t) < sizeof r)
			break;
		memcpy(&r, t, sizeof r);
		unsigned k = (r.info >> 24) & 0x1f, vlen = r.info & 0xffff;
		long extra = btf_extra(k, vlen);
		if (extra < 0 || (size_t)(end - t) < sizeof r + (size_t)extra)
			break;
		if (k == kind && r.name_off < h.str_len && h.str_len - r.name_off >= nlen &&
		    !memcmp(str + r.name_off, name, nlen)) {
			id = cur;
			break;
		}
		t += sizeof r + (size_t)extra;
	}
out:
	free(b);
	return id;
}
