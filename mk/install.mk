# mk/install.mk — make install / make uninstall / make man.
#
#   make install PREFIX=/usr/local DESTDIR=
#     $(PREFIX)/bin/lightfs
#     $(PREFIX)/share/man/man1/lightfs.1
#     $(PREFIX)/share/bash-completion/completions/lightfs   (bash-completion loads on demand)
#     $(PREFIX)/share/zsh/site-functions/_lightfs            (in zsh's default $fpath)
#     $(PREFIX)/share/fish/vendor_completions.d/lightfs.fish (fish's vendor directory)
#   make uninstall PREFIX=... DESTDIR=...   removes exactly those files
#   make man      regenerates doc/lightfs.1 from doc/lightfs.1.in and the help
#                 texts of the command table (commit the result); install
#                 generates the page from the binary it installs, so an
#                 installed page always matches the installed --help
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR      = $(DESTDIR)$(PREFIX)/bin
MAN1DIR     = $(DESTDIR)$(PREFIX)/share/man/man1
BASHCOMPDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHCOMPDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
INSTALLED   = $(BINDIR)/lightfs $(MAN1DIR)/lightfs.1 $(BASHCOMPDIR)/lightfs \
              $(ZSHCOMPDIR)/_lightfs $(FISHCOMPDIR)/lightfs.fish

.PHONY: install uninstall man
build/man/lightfs.1: build/rel/lightfs doc/lightfs.1.in doc/mkman.sh
	@mkdir -p build/man
	sh doc/mkman.sh build/rel/lightfs doc/lightfs.1.in >$@.tmp && mv $@.tmp $@

install: build/rel/lightfs build/man/lightfs.1
	install -d $(BINDIR) $(MAN1DIR) $(BASHCOMPDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR)
	install -m 755 build/rel/lightfs $(BINDIR)/lightfs
	install -m 644 build/man/lightfs.1 $(MAN1DIR)/lightfs.1
	install -m 644 completions/lightfs.bash $(BASHCOMPDIR)/lightfs
	install -m 644 completions/_lightfs $(ZSHCOMPDIR)/_lightfs
	install -m 644 completions/lightfs.fish $(FISHCOMPDIR)/lightfs.fish

uninstall:
	rm -f $(INSTALLED)

man: build/rel/lightfs
	sh doc/mkman.sh build/rel/lightfs doc/lightfs.1.in >doc/lightfs.1.tmp && mv doc/lightfs.1.tmp doc/lightfs.1
