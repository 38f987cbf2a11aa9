# mk/shell.mk — helpers of the shell tests.

# tests/shell/mkimg.c builds the shell tests' image through the C API.
build/asan/tests/tools/shell_mkimg: build/asan/tests/shell/mkimg.o $(ASAN_LIB)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)
TEST_EXTRA += build/asan/tests/tools/shell_mkimg build/fuzz/fuzz_shell
