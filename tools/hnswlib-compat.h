// Included in front of hnswlib-node's addon.cc (tools/natives.mjs): binds libm's `log` to its oldest
// version, so the addon does not need glibc 2.29 (see [Note: the glibc floor] in tools/natives.mjs).
#if defined(__x86_64__)
__asm__(".symver log,log@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver log,log@GLIBC_2.17");
#endif
