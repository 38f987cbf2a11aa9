# Path arguments of the image commands (cmd/image.h): IMAGE:/path only when
# the prefix is an existing lightfs image; ./a:b and /x:y are host paths; an
# unknown prefix is an error that writes nothing on the host; -i IMAGE makes
# plain paths image paths; an image alone means its root; '-' is stdin.
. "$TOP/tests/cli/lib.sh"
T=$TMPDIR
cd "$T" || exit 1
"$LF" mkfs -q img.lfs >/dev/null 2>&1 || { fail cli_paths_setup "mkfs failed"; exit 0; }
echo hello >hostfile

expect_out paths_image_root "" "$LF" ls img.lfs:/
expect_out paths_image_empty_rest "" "$LF" ls img.lfs:
expect_out paths_image_alone "" "$LF" ls img.lfs
expect_exit 1 paths_unknown_prefix "$LF" cat nosuch:/x
expect_err paths_unknown_prefix_msg "no such image 'nosuch'"
[ ! -e nosuch ] && [ ! -e "nosuch:" ] && pass paths_unknown_prefix_no_host_file ||
	fail paths_unknown_prefix_no_host_file "a host file appeared"
expect_exit 1 paths_not_image_prefix "$LF" cat hostfile:/x
expect_err paths_not_image_prefix_msg "'hostfile' is not a lightfs image"
expect_exit 1 paths_dot_slash_is_host "$LF" cat ./img.lfs.x:/y
expect_err paths_dot_slash_is_host_msg "not an image path"
expect_exit 1 paths_host_for_image_cmd "$LF" cat hostfile
expect_err paths_host_for_image_cmd_msg "not an image path"
expect_exit 2 paths_empty_arg "$LF" cat ""
# a relative image path is relative to the image's root
"$LF" mkdir img.lfs:/d >/dev/null 2>&1
expect_out paths_relative_in_image "d" "$LF" ls img.lfs:
expect_out paths_relative_in_image2 "" "$LF" ls img.lfs:d
# -i IMAGE: plain /paths are in the image
expect_out paths_default_image "d" "$LF" -i img.lfs ls /
expect_out paths_default_image_noarg "d" "$LF" -i img.lfs ls
# '-': cat copies stdin
expect_out paths_stdin "hello" sh -c "echo hello | '$LF' cat -"
# a colon later in the path belongs to the path
"$LF" mkdir "img.lfs:/a:b" >/dev/null 2>&1
expect_out paths_colon_in_path "a:b
d" "$LF" ls img.lfs:/
