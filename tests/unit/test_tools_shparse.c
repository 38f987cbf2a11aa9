/*
 * tests/unit/test_tools_shparse.c — the shell's line parser: words and
 * quoting, `;` and newlines, comments, `| host` pipes, `!host`, syntax
 * errors, the cursor analysis used by tab completion, and quote → parse
 * round trips of random words (seeded).
 */
#include "harness.h"

#include <errno.h>

#include "tools/shparse.h"

static int parse(const char *s, struct lfs_sh_line *l, struct lfs_err *e)
{
	return lfs_sh_parse(s, strlen(s), l, e);
}

TEST(words_and_quotes)
{
	struct lfs_sh_line l;
	struct lfs_err e;
	CHECK_EQ(parse("  cat 'a b' \"c\\\"d\\x\" e\\ f g'h'\"i\"  ", &l, &e), 0);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.cmds[0].argc, 5);
	CHECK(!strcmp(l.cmds[0].argv[0], "cat"));
	CHECK(!strcmp(l.cmds[0].argv[1], "a b"));
	CHECK(!strcmp(l.cmds[0].argv[2], "c\"d\\x"));
	CHECK(!strcmp(l.cmds[0].argv[3], "e f"));
	CHECK(!strcmp(l.cmds[0].argv[4], "ghi"));
	CHECK(l.cmds[0].argv[5] == NULL);
	CHECK(!l.cmds[0].pipe && !l.cmds[0].bang);
	lfs_sh_line_free(&l);
	/* empty quotes make an empty word; ! and # inside a word are literal */
	CHECK_EQ(parse("touch '' a!b c#d", &l, &e), 0);
	CHECK_EQ(l.cmds[0].argc, 4);
	CHECK(!strcmp(l.cmds[0].argv[1], ""));
	CHECK(!strcmp(l.cmds[0].argv[2], "a!b"));
	CHECK(!strcmp(l.cmds[0].argv[3], "c#d"));
	lfs_sh_line_free(&l);
}

TEST(separators_and_comments)
{
	struct lfs_sh_line l;
	struct lfs_err e;
	CHECK_EQ(parse("ls a; ; pwd;\ncd /x # rest; ignored\n  # only a comment\nquit", &l, &e), 0);
	CHECK_EQ(l.n, 4);
	CHECK(!strcmp(l.cmds[0].argv[0], "ls"));
	CHECK_EQ(l.cmds[0].off, 0);
	CHECK_EQ(l.cmds[0].len, 4);
	CHECK(!strcmp(l.cmds[1].argv[0], "pwd"));
	CHECK_EQ(l.cmds[2].argc, 2);
	CHECK(!strcmp(l.cmds[2].argv[1], "/x"));
	CHECK(!strcmp(l.cmds[3].argv[0], "quit"));
	lfs_sh_line_free(&l);
	CHECK_EQ(parse("   # nothing", &l, &e), 0);
	CHECK_EQ(l.n, 0);
	lfs_sh_line_free(&l);
	CHECK_EQ(parse("", &l, &e), 0);
	CHECK_EQ(l.n, 0);
	/* a quoted ; or newline is part of the word; \<newline> joins */
	CHECK_EQ(parse("echo 'a;b' \"c\nd\" e\\\nf", &l, &e), 0);
	CHECK_EQ(l.n, 1);
	CHECK(!strcmp(l.cmds[0].argv[1], "a;b"));
	CHECK(!strcmp(l.cmds[0].argv[2], "c\nd"));
	CHECK(!strcmp(l.cmds[0].argv[3], "ef"));
	lfs_sh_line_free(&l);
}

TEST(pipes_and_bang)
{
	struct lfs_sh_line l;
	struct lfs_err e;
	CHECK_EQ(parse("cat /etc/passwd | grep 'ro;ot' | wc -l ; ls", &l, &e), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.cmds[0].argc, 2);
	CHECK(l.cmds[0].pipe && !strcmp(l.cmds[0].pipe, "grep 'ro;ot' | wc -l"));
	CHECK(!strcmp(l.cmds[1].argv[0], "ls"));
	CHECK(!l.cmds[1].pipe);
	lfs_sh_line_free(&l);
	CHECK_EQ(parse("!echo hi | tr a-z A-Z; pwd", &l, &e), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.cmds[0].argc, 0);
	CHECK(l.cmds[0].argv && l.cmds[0].argv[0] == NULL);
	CHECK(l.cmds[0].bang && !strcmp(l.cmds[0].bang, "echo hi | tr a-z A-Z"));
	lfs_sh_line_free(&l);
	CHECK_EQ(parse("  !", &l, &e), 0);
	CHECK_EQ(l.n, 1);
	CHECK(l.cmds[0].bang && !strcmp(l.cmds[0].bang, ""));
	lfs_sh_line_free(&l);
	CHECK_EQ(parse("ls | sort # by name", &l, &e), 0);
	CHECK(l.cmds[0].pipe && !strcmp(l.cmds[0].pipe, "sort"));
	lfs_sh_line_free(&l);
}

TEST(syntax_errors)
{
	struct lfs_sh_line l;
	struct lfs_err e;
	const char *bad[] = { "cat 'a", "cat \"a", "cat a\\", "| grep x", "ls |", "ls | ;",
			      "ls | grep 'x", "ls; | x" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		memset(&e, 0, sizeof e);
		int rc = parse(bad[i], &l, &e);
		CHECK_MSG(rc < 0, "accepted [%s]", bad[i]);
		CHECK_MSG(e.msg[0] != 0, "no message for [%s]", bad[i]);
		CHECK(l.n == 0 && l.cmds == NULL);
	}
	memset(&e, 0, sizeof e);
	CHECK_EQ(parse("cat 'a", &l, &e), -EINVAL);
	CHECK(strstr(e.msg, "unterminated"));
	memset(&e, 0, sizeof e);
	CHECK_EQ(parse("ls |", &l, &e), -EINVAL);
	CHECK(strstr(e.msg, "after '|'"));
}

static int point(const char *s, struct lfs_sh_point *p)
{
	return lfs_sh_point(s, strlen(s), p);
}

TEST(cursor_point)
{
	struct lfs_sh_point p;
	CHECK_EQ(point("cat /us", &p), 0);
	CHECK_EQ(p.where, LFS_SH_AT_CMD);
	CHECK_EQ(p.argc, 1);
	CHECK(!strcmp(p.argv[0], "cat"));
	CHECK(!strcmp(p.word, "/us"));
	CHECK_EQ(p.word_start, 4);
	CHECK_EQ(p.quote, 0);
	lfs_sh_point_free(&p);

	CHECK_EQ(point("ls; cat 'my fi", &p), 0);
	CHECK_EQ(p.argc, 1);
	CHECK(!strcmp(p.argv[0], "cat"));
	CHECK(!strcmp(p.word, "my fi"));
	CHECK_EQ(p.quote, '\'');
	CHECK_EQ(p.word_start, 8);
	lfs_sh_point_free(&p);

	CHECK_EQ(point("cat my\\ fi", &p), 0);
	CHECK(!strcmp(p.word, "my fi"));
	CHECK_EQ(p.quote, 0);
	lfs_sh_point_free(&p);

	CHECK_EQ(point("cp -r a ", &p), 0);
	CHECK_EQ(p.argc, 3);
	CHECK(!strcmp(p.word, ""));
	CHECK_EQ(p.word_start, 8);
	lfs_sh_point_free(&p);

	CHECK_EQ(point("", &p), 0);
	CHECK_EQ(p.argc, 0);
	CHECK(!strcmp(p.word, ""));
	lfs_sh_point_free(&p);

	CHECK_EQ(point("cat a | gr", &p), 0);
	CHECK_EQ(p.where, LFS_SH_AT_HOST);
	CHECK(!strcmp(p.word, "gr"));
	CHECK_EQ(p.word_start, 8);
	lfs_sh_point_free(&p);

	CHECK_EQ(point("!ls /us", &p), 0);
	CHECK_EQ(p.where, LFS_SH_AT_HOST);
	CHECK(!strcmp(p.word, "/us"));
	lfs_sh_point_free(&p);

	CHECK_EQ(point("cat a | grep x; ls /e", &p), 0);
	CHECK_EQ(p.where, LFS_SH_AT_CMD);
	CHECK_EQ(p.argc, 1);
	CHECK(!strcmp(p.argv[0], "ls"));
	CHECK(!strcmp(p.word, "/e"));
	lfs_sh_point_free(&p);

	CHECK_EQ(point("ls # com", &p), 0);
	CHECK_EQ(p.where, LFS_SH_AT_COMMENT);
	lfs_sh_point_free(&p);
}

/* Random words through both quoting styles and back. */
TEST(quote_round_trip)
{
	uint64_t seed = seed_from_env("quote_round_trip");
	const char alphabet[] = "ab /'\"\\;|#!$`&()<>*?[~{} \t\n-_.:=xyzé";
	for (int iter = 0; iter < 3000; iter++) {
		char word[24];
		int n = (int)(t_rand(&seed) % 20);
		for (int i = 0; i < n; i++)
			word[i] = alphabet[t_rand(&seed) % (sizeof alphabet - 1)];
		word[n] = 0;
		for (int style = 0; style < 2; style++) {
			char *q = lfs_sh_quote(word, style ? '\'' : '\\', 0);
			CHECK(q);
			/* as an argument after a command, and followed by another */
			size_t ql = strlen(q);
			char *line = malloc(ql + 16);
			CHECK(line);
			snprintf(line, ql + 16, "cmd %s next", q);
			struct lfs_sh_line l;
			struct lfs_err e = { 0 };
			int rc = parse(line, &l, &e);
			CHECK_MSG(rc == 0, "[%s] → [%s]: %s", word, line, e.msg);
			CHECK_MSG(l.n == 1 && l.cmds[0].argc == 3, "[%s] split into %d cmds / %d words",
				  line, l.n, l.n ? l.cmds[0].argc : 0);
			CHECK_MSG(!strcmp(l.cmds[0].argv[1], word), "[%s] → [%s] → [%s]", word, q,
				  l.cmds[0].argv[1]);
			lfs_sh_line_free(&l);
			/* the cursor analysis sees the same word, open quote or not */
			snprintf(line, ql + 16, "cmd %s", q);
			struct lfs_sh_point p;
			CHECK_EQ(lfs_sh_point(line, strlen(line), &p), 0);
			CHECK_MSG(!strcmp(p.word, word), "point [%s] gave [%s]", line, p.word);
			CHECK_EQ(p.word_start, 4);
			lfs_sh_point_free(&p);
			free(line);
			/* an open single-quoted prefix reads back as the prefix */
			if (style) {
				char *o = lfs_sh_quote(word, '\'', 1);
				CHECK(o);
				CHECK_EQ(lfs_sh_point(o, strlen(o), &p), 0);
				CHECK_MSG(!strcmp(p.word, word), "open [%s] gave [%s]", o, p.word);
				lfs_sh_point_free(&p);
				free(o);
			}
			free(q);
		}
	}
}

int main(int argc, char **argv)
{
	return RUN_TESTS(argc, argv, words_and_quotes, separators_and_comments, pipes_and_bang,
			 syntax_errors, cursor_point, quote_round_trip);
}
