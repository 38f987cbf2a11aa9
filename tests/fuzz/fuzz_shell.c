/*
 * tests/fuzz/fuzz_shell.c — libFuzzer harness for the shell's line parser
 * (lib/tools/shparse.c): parse the input as a line, analyse every cursor
 * position as tab completion does, and check the invariants the shell relies
 * on — argv is NULL-terminated, host text is set only where it should be,
 * offsets stay inside the line, and quoting a parsed word reads back as the
 * same word.
 */
#include "tools/shparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check(int cond)
{
	if (!cond)
		abort();
}

static void roundtrip(const char *word)
{
	for (int style = 0; style < 2; style++) {
		char *q = lfs_sh_quote(word, style ? '\'' : '\\', 0);
		if (!q)
			return;
		struct lfs_sh_line l;
		struct lfs_err e = { 0 };
		check(lfs_sh_parse(q, strlen(q), &l, &e) == 0);
		/* an empty word quoted is '' : one word */
		check(l.n == 1 && l.cmds[0].argc == 1 && !strcmp(l.cmds[0].argv[0], word));
		lfs_sh_line_free(&l);
		free(q);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const char *s = (const char *)data;
	struct lfs_sh_line l;
	struct lfs_err e = { 0 };
	if (lfs_sh_parse(s, size, &l, &e) == 0) {
		for (int i = 0; i < l.n; i++) {
			struct lfs_sh_cmd *c = &l.cmds[i];
			check(c->argv && c->argv[c->argc] == NULL);
			check(c->off <= size && c->len <= size - c->off);
			check(!(c->pipe && c->bang));
			check(c->bang ? c->argc == 0 : c->argc > 0);
			for (int j = 0; j < c->argc; j++) {
				if (strlen(c->argv[j]) < 256)
					roundtrip(c->argv[j]);
			}
		}
		lfs_sh_line_free(&l);
	} else {
		check(e.msg[0] != 0);
	}
	for (size_t p = 0; p <= size; p += 1 + p / 8) {
		struct lfs_sh_point pt;
		if (lfs_sh_point(s, p, &pt) == 0) {
			check(pt.word && pt.argv && pt.argv[pt.argc] == NULL);
			check(pt.word_start <= p);
			lfs_sh_point_free(&pt);
		}
	}
	return 0;
}
