# Included after the KVM selftests' Makefile: builds selftest sources from
# outside the tree (EXTRA_SRCS) with exactly the flags and library the
# in-tree tests get.
define extra_prog
$(OUTPUT)/extra/$(basename $(notdir $(1))): $(1) $$(LIBKVM_OBJS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(CPPFLAGS) $$(LDFLAGS) $$(TARGET_ARCH) $(1) $$(LIBKVM_OBJS) $$(LDLIBS) -o $$@
endef
$(foreach s,$(EXTRA_SRCS),$(eval $(call extra_prog,$(s))))

extra-tests: $(foreach s,$(EXTRA_SRCS),$(OUTPUT)/extra/$(basename $(notdir $(s))))
