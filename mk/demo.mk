# mk/demo.mk — `make demo`: the README's main-job command.
.PHONY: demo
demo: all
	$(Q)sh tests/demo.sh
