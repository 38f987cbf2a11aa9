/*
 * cmd/session.h — how a command reaches an image.
 *
 * On the command line, each command opens the image it names (IMAGE:/path,
 * or -i IMAGE with plain /paths), does its work as one transaction, and
 * unmounts.  Inside `lightfs shell IMAGE` the image stays mounted for the
 * whole session: c->sess is set, and a path without an IMAGE: prefix (or
 * with the session's own image as prefix) refers to the session's mount,
 * relative paths resolve against the session cwd (sess->proc's cwd).
 *
 * Implemented in cmd/image.c (owned with the image CLI); the shell creates
 * and destroys sessions.
 */
#ifndef LFS_CMD_SESSION_H
#define LFS_CMD_SESSION_H

#include <limits.h>

#include "cli.h"
#include "vfs/lightfs.h"

struct lfs_session {
	char image[PATH_MAX];      /* path of the image as given */
	struct lfs_mount *mnt;     /* mounted for the whole session */
	struct lfs_proc *proc;     /* holds the cwd */
	int readonly;              /* --ro */
};

#endif
