/*
 * lib/trace/paths.c — per-process cwd and fd tables that resolve the paths
 * of a trace (used by the recorder and the strace importer).
 *
 * A process (thread group) owns a reference to an fd table and to a cwd;
 * clone with CLONE_FILES / CLONE_FS shares them, fork copies them, threads
 * use their process's.  Resolution is lexical, like the kernel would see it
 * if no symlink were involved: good enough to name files for replay, and
 * never touches the live filesystem.
 */
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FD     (1 << 20)
#define NBUCKETS   4096
#define CLONE_FS_    0x00000200
#define CLONE_FILES_ 0x00000400
#define CLONE_THREAD_ 0x00010000

struct fdent {
	char *path;
	int cloexec;
};

struct fdtab {
	int refs;
	struct fdent *v;
	int n;                 /* entries allocated */
};

struct fsinfo {
	int refs;
	char *cwd;
};

struct proc {
	int32_t pid;
	struct fdtab *ft;
	struct fsinfo *fs;
	struct proc *next;
};

struct lfs_trace_paths {
	struct proc *b[NBUCKETS];
	char abs1[4096], abs2[4096];
};

int lfs_trace_path_join(char *out, size_t n, const char *base, const char *path)
{
	char tmp[8192];
	size_t bl = 0;
	if (path[0] != '/' && base) {
		bl = strlen(base);
		if (bl >= sizeof tmp - 2)
			return -ENAMETOOLONG;
		memcpy(tmp, base, bl);
		tmp[bl++] = '/';
	}
	size_t pl = strlen(path);
	if (bl + pl >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp + bl, path, pl + 1);
	/* normalize into out: components separated by '/', handle . and .. */
	size_t o = 0;
	const char *s = tmp;
	if (n < 2)
		return -ENAMETOOLONG;
	out[o++] = '/';
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != '/')
			e++;
		size_t cl = (size_t)(e - s);
		if (cl == 1 && s[0] == '.') {
			/* skip */
		} else if (cl == 2 && s[0] == '.' && s[1] == '.') {
			if (o > 1) {
				o--;                      /* drop trailing '/' */
				while (o > 1 && out[o - 1] != '/')
					o--;
			}
		} else {
			if (o + cl + 2 > n)
				return -ENAMETOOLONG;
			memcpy(out + o, s, cl);
			o += cl;
			out[o++] = '/';
		}
		s = e;
	}
	if (o > 1)
		o--;                                  /* no trailing '/' */
	out[o] = 0;
	return (int)o;
}

static struct proc **find_slot(struct lfs_trace_paths *p, int32_t pid)
{
	struct proc **pp = &p->b[(uint32_t)pid % NBUCKETS];
	while (*pp && (*pp)->pid != pid)
		pp = &(*pp)->next;
	return pp;
}

static struct proc *find(struct lfs_trace_paths *p, int32_t pid)
{
	return *find_slot(p, pid);
}

static void ft_put(struct fdtab *ft)
{
	if (!ft || --ft->refs > 0)
		return;
	for (int i = 0; i < ft->n; i++)
		free(ft->v[i].path);
	free(ft->v);
	free(ft);
}

static void fs_put(struct fsinfo *fs)
{
	if (!fs || --fs->refs > 0)
		return;
	free(fs->cwd);
	free(fs);
}

static struct proc *get(struct lfs_trace_paths *p, int32_t pid)
{
	struct proc **pp = find_slot(p, pid);
	if (*pp)
		return *pp;
	struct proc *pr = calloc(1, sizeof *pr);
	if (!pr)
		return NULL;
	pr->ft = calloc(1, sizeof *pr->ft);
	pr->fs = calloc(1, sizeof *pr->fs);
	if (!pr->ft || !pr->fs) {
		free(pr->ft);
		free(pr->fs);
		free(pr);
		return NULL;
	}
	pr->ft->refs = 1;
	pr->fs->refs = 1;
	pr->pid = pid;
	*pp = pr;
	return pr;
}

static void drop(struct lfs_trace_paths *p, int32_t pid)
{
	struct proc **pp = find_slot(p, pid);
	struct proc *pr = *pp;
	if (!pr)
		return;
	*pp = pr->next;
	ft_put(pr->ft);
	fs_put(pr->fs);
	free(pr);
}

int lfs_trace_paths_new(struct lfs_trace_paths **pp)
{
	*pp = calloc(1, sizeof **pp);
	return *pp ? 0 : -ENOMEM;
}

void lfs_trace_paths_free(struct lfs_trace_paths *p)
{
	if (!p)
		return;
	for (int i = 0; i < NBUCKETS; i++)
		while (p->b[i])
			drop(p, p->b[i]->pid);
	free(p);
}

static int set_str(char **dst, const char *s)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int lfs_trace_paths_set_cwd(struct lfs_trace_paths *p, int32_t pid, const char *cwd)
{
	struct proc *pr = get(p, pid);
	return pr ? set_str(&pr->fs->cwd, cwd) : -ENOMEM;
}

static int fdt_set(struct proc *pr, int32_t fd, const char *path, int cloexec)
{
	if (fd < 0 || fd >= MAX_FD)
		return 0;
	struct fdtab *ft = pr->ft;
	if (fd >= ft->n) {
		int nn = ft->n ? ft->n : 64;
		while (nn <= fd)
			nn *= 2;
		struct fdent *nv = realloc(ft->v, (size_t)nn * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		memset(nv + ft->n, 0, (size_t)(nn - ft->n) * sizeof *nv);
		ft->v = nv;
		ft->n = nn;
	}
	ft->v[fd].cloexec = cloexec;
	return set_str(&ft->v[fd].path, path);
}

static const char *fdt_get(struct proc *pr, int32_t fd)
{
	if (!pr || fd < 0 || fd >= pr->ft->n)
		return NULL;
	return pr->ft->v[fd].path;
}

int lfs_trace_paths_set_fd(struct lfs_trace_paths *p, int32_t pid, int32_t fd, const char *path)
{
	struct proc *pr = get(p, pid);
	return pr ? fdt_set(pr, fd, path, 0) : -ENOMEM;
}

const char *lfs_trace_paths_fd(struct lfs_trace_paths *p, int32_t pid, int32_t fd)
{
	return fdt_get(find(p, pid), fd);
}

/* New process child of parent: copy (or share) its tables. */
static int fork_proc(struct lfs_trace_paths *p, int32_t parent, int32_t child, uint64_t flags)
{
	struct proc *pp = find(p, parent);
	struct proc *c = find(p, child);
	if (!pp || parent == child)
		return 0;
	if (c) {
		/* PROC_FORK made a copy; the clone syscall says what is shared */
		if (flags & CLONE_FILES_ && c->ft != pp->ft) {
			ft_put(c->ft);
			c->ft = pp->ft;
			c->ft->refs++;
		}
		if (flags & CLONE_FS_ && c->fs != pp->fs) {
			fs_put(c->fs);
			c->fs = pp->fs;
			c->fs->refs++;
		}
		return 0;
	}
	c = get(p, child);
	if (!c)
		return -ENOMEM;
	if (flags & CLONE_FILES_) {
		ft_put(c->ft);
		c->ft = pp->ft;
		c->ft->refs++;
	} else {
		for (int i = 0; i < pp->ft->n; i++)
			if (pp->ft->v[i].path && fdt_set(c, i, pp->ft->v[i].path, pp->ft->v[i].cloexec))
				return -ENOMEM;
	}
	if (flags & CLONE_FS_) {
		fs_put(c->fs);
		c->fs = pp->fs;
		c->fs->refs++;
	} else if (set_str(&c->fs->cwd, pp->fs->cwd)) {
		return -ENOMEM;
	}
	return 0;
}

/* Resolve (dirfd, path) of pr into out; NULL if unknown. */
static const char *resolve(struct proc *pr, int32_t dirfd, const char *path, char *out, size_t n)
{
	if (!path)
		return NULL;
	const char *base = NULL;
	if (path[0] != '/') {
		if (!pr)
			return NULL;
		if (dirfd == LFS_TR_AT_FDCWD || dirfd == LFS_TR_NOFD)
			base = pr->fs->cwd;
		else
			base = fdt_get(pr, dirfd);
		if (!base)
			return NULL;
		if (!path[0])           /* AT_EMPTY_PATH */
			return strlen(base) < n ? strcpy(out, base) : NULL;
	}
	return lfs_trace_path_join(out, n, base, path) >= 0 ? out : NULL;
}

int lfs_trace_paths_apply(struct lfs_trace_paths *p, struct lfs_trace_event *ev)
{
	struct proc *pr = find(p, ev->pid);
	switch (ev->sys) {
	case LFS_TR_SYMLINK:
	case LFS_TR_SYMLINKAT:
		ev->path_abs = NULL;
		break;
	case LFS_TR_FCHDIR:
		ev->path_abs = fdt_get(pr, ev->fd);
		if (ev->path_abs) {
			strncpy(p->abs1, ev->path_abs, sizeof p->abs1 - 1);
			p->abs1[sizeof p->abs1 - 1] = 0;
			ev->path_abs = p->abs1;
		}
		break;
	case LFS_TR_FD_SNAP:
	case LFS_TR_CWD_SNAP:
		ev->path_abs = ev->path;
		break;
	default:
		if (ev->path && !ev->path_abs)
			ev->path_abs = resolve(pr, ev->dirfd, ev->path, p->abs1, sizeof p->abs1);
	}
	if (ev->path2 && !ev->path2_abs)
		ev->path2_abs = resolve(pr, ev->dirfd2, ev->path2, p->abs2, sizeof p->abs2);

	int rc = 0;
	int ok = ev->ret >= 0;
	switch (ev->sys) {
	case LFS_TR_OPEN: case LFS_TR_OPENAT: case LFS_TR_OPENAT2: case LFS_TR_CREAT:
		if (ok && (pr = get(p, ev->pid)))
			rc = fdt_set(pr, (int32_t)ev->ret, ev->path_abs ? ev->path_abs : ev->path,
				    (ev->flags & O_CLOEXEC) != 0);
		break;
	case LFS_TR_CLOSE:
		if (pr)
			rc = fdt_set(pr, ev->fd, NULL, 0);
		break;
	case LFS_TR_CLOSE_RANGE:
		if (pr && ok && !(ev->flags & 4 /* CLOSE_RANGE_CLOEXEC */)) {
			int hi = ev->fd2 < pr->ft->n ? ev->fd2 : pr->ft->n - 1;
			for (int fd = ev->fd < 0 ? 0 : ev->fd; fd <= hi; fd++)
				fdt_set(pr, fd, NULL, 0);
		}
		break;
	case LFS_TR_DUP:
		if (pr && ok)
			rc = fdt_set(pr, (int32_t)ev->ret, fdt_get(pr, ev->fd), 0);
		break;
	case LFS_TR_DUP2:
	case LFS_TR_DUP3:
		if (pr && ok && ev->fd != ev->fd2) {
			char *s = fdt_get(pr, ev->fd) ? strdup(fdt_get(pr, ev->fd)) : NULL;
			rc = fdt_set(pr, ev->fd2, s, (ev->flags & O_CLOEXEC) != 0);
			free(s);
		}
		break;
	case LFS_TR_FCNTL:
		if (pr && ok && (ev->cmd == F_DUPFD || ev->cmd == F_DUPFD_CLOEXEC))
			rc = fdt_set(pr, (int32_t)ev->ret, fdt_get(pr, ev->fd), ev->cmd == F_DUPFD_CLOEXEC);
		else if (pr && ok && ev->cmd == F_SETFD && ev->fd >= 0 && ev->fd < pr->ft->n)
			pr->ft->v[ev->fd].cloexec = (ev->arg & FD_CLOEXEC) != 0;
		break;
	case LFS_TR_CHDIR:
	case LFS_TR_FCHDIR:
		if (ok && ev->path_abs && (pr = get(p, ev->pid)))
			rc = set_str(&pr->fs->cwd, ev->path_abs);
		break;
	case LFS_TR_FORK: case LFS_TR_VFORK: case LFS_TR_CLONE: case LFS_TR_CLONE3:
		if (ev->ret > 0 && !(ev->flags & CLONE_THREAD_))
			rc = fork_proc(p, ev->pid, (int32_t)ev->ret, ev->flags);
		break;
	case LFS_TR_PROC_FORK:
		if (!(ev->eflags & LFS_TREV_THREAD))
			rc = fork_proc(p, ev->pid, ev->child_pid, 0);
		break;
	case LFS_TR_EXECVE:
	case LFS_TR_EXECVEAT:
		if (ok && pr)
			for (int fd = 0; fd < pr->ft->n; fd++)
				if (pr->ft->v[fd].cloexec)
					fdt_set(pr, fd, NULL, 0);
		break;
	case LFS_TR_PROC_EXIT:
		if (ev->eflags & LFS_TREV_GROUP)
			drop(p, ev->pid);
		break;
	case LFS_TR_CWD_SNAP:
		if (ev->path)
			rc = lfs_trace_paths_set_cwd(p, ev->pid, ev->path);
		break;
	case LFS_TR_FD_SNAP:
		if ((pr = get(p, ev->pid)))
			rc = fdt_set(pr, ev->fd, ev->path, (ev->flags & O_CLOEXEC) != 0);
		break;
	}
	return rc;
}
