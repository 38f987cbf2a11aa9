/* cmd/trace_btf.h — type ids from the kernel's BTF without parsing all of it */
#ifndef LFS_CMD_TRACE_BTF_H
#define LFS_CMD_TRACE_BTF_H

#define LFS_BTF_KIND_TYPEDEF 8

/* Id of the type of `kind` named `name` in the raw BTF file `path`
 * (e.g. /sys/kernel/btf/vmlinux); 0 when absent or unreadable. */
int lfs_btf_find_id(const char *path, unsigned kind, const char *name);

#endif
