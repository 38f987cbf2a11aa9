/*
 * tests/unit/kv_model.h — reference map for KV tests: a sorted array of
 * byte-string keys and values (obviously correct, slow is fine).
 */
#ifndef LFS_TEST_KV_MODEL_H
#define LFS_TEST_KV_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct m_ent { uint8_t *k; size_t kl; uint8_t *v; size_t vl; };
struct model { struct m_ent *e; size_t n, cap; };

static inline int m_cmp(const void *a, size_t al, const void *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;
	return c ? c : (al < bl ? -1 : al > bl);
}

/* index of first entry >= key */
static inline size_t m_lower(const struct model *m, const void *k, size_t kl)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m_cmp(m->e[mid].k, m->e[mid].kl, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline void m_put(struct model *m, const void *k, size_t kl, const void *v, size_t vl)
{
	size_t i = m_lower(m, k, kl);
	if (i < m->n && !m_cmp(m->e[i].k, m->e[i].kl, k, kl)) {
		free(m->e[i].v);
	} else {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->e = realloc(m->e, m->cap * sizeof *m->e);
		}
		memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof *m->e);
		m->n++;
		m->e[i].k = malloc(kl ? kl : 1);
		memcpy(m->e[i].k, k, kl);
		m->e[i].kl = kl;
	}
	m->e[i].v = malloc(vl ? vl : 1);
	if (vl)
		memcpy(m->e[i].v, v, vl);
	m->e[i].vl = vl;
}

static inline void m_del(struct model *m, const void *k, size_t kl)
{
	size_t i = m_lower(m, k, kl);
	if (i < m->n && !m_cmp(m->e[i].k, m->e[i].kl, k, kl)) {
		free(m->e[i].k);
		free(m->e[i].v);
		memmove(m->e + i, m->e + i + 1, (m->n - i - 1) * sizeof *m->e);
		m->n--;
	}
}

static inline void m_del_range(struct model *m, const void *lo, size_t ll, const void *hi, size_t hl)
{
	size_t i = m_lower(m, lo, ll);
	size_t j = hi ? m_lower(m, hi, hl) : m->n;
	if (j <= i)
		return;
	for (size_t x = i; x < j; x++) {
		free(m->e[x].k);
		free(m->e[x].v);
	}
	memmove(m->e + i, m->e + j, (m->n - j) * sizeof *m->e);
	m->n -= j - i;
}

static inline struct m_ent *m_get(struct model *m, const void *k, size_t kl)
{
	size_t i = m_lower(m, k, kl);
	if (i < m->n && !m_cmp(m->e[i].k, m->e[i].kl, k, kl))
		return &m->e[i];
	return NULL;
}

static inline void m_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].k);
		free(m->e[i].v);
	}
	free(m->e);
	memset(m, 0, sizeof *m);
}

static inline void m_copy(struct model *dst, const struct model *src)
{
	m_free(dst);
	for (size_t i = 0; i < src->n; i++)
		m_put(dst, src->e[i].k, src->e[i].kl, src->e[i].v, src->e[i].vl);
}

static inline int m_equal(const struct model *a, const struct model *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (m_cmp(a->e[i].k, a->e[i].kl, b->e[i].k, b->e[i].kl) || a->e[i].vl != b->e[i].vl
		    || (a->e[i].vl && memcmp(a->e[i].v, b->e[i].v, a->e[i].vl)))
			return 0;
	return 1;
}

#endif
