// Plain-heap definitions of libsodium's guarded allocator, linked only into
// orchestra-conductor and orchestra-bench-load (see the Makefile). Defined
// in the executable, they take the place of libsodium's own for every
// caller in the process: libzmq allocates its CurveZMQ session keys with
// sodium_allocarray() and releases them with sodium_free().
//
// Why: libsodium's sodium_malloc() gives each allocation its own mapping
// with guard pages on both sides, a canary, mprotect() and mlock(). libzmq
// allocates six such blocks per Curve handshake: strace counted about 54
// system calls per handshake for them (mmap, mprotect, madvise, mlock,
// munmap), and none with the plain heap. The conductor
// does thousands of handshakes at once when a fleet (re)connects; with the
// plain heap, 10,000 players connected in 7.2 s instead of 10.0 s, and came
// back after a conductor restart in 6.2 s instead of 10.4 s
// (orchestra-bench-load on 2 cores, the simulated players on the same
// cores).
//
// The trade-off: the keys lose the guard pages (an overflow into them is
// not trapped), the canary, and mlock() (they may be swapped out). They are
// still zeroed with sodium_memzero() when freed, as libsodium does. The
// conductor's long-term secret key is held by libzmq in the socket options
// either way; these are the per-session keys.
//
// The allocations keep their size in a header of kHeader bytes, so that
// sodium_free() can zero the whole block; the result stays 16-byte aligned
// as malloc's is.

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

namespace {

constexpr size_t kHeader = 16;

}  // namespace

extern "C" {

void* sodium_malloc(const size_t size) {
  if (size > SIZE_MAX - kHeader) {
    errno = ENOMEM;
    return nullptr;
  }
  unsigned char* base = static_cast<unsigned char*>(malloc(size + kHeader));
  if (base == nullptr) return nullptr;
  memcpy(base, &size, sizeof size);
  return base + kHeader;
}

void* sodium_allocarray(size_t count, size_t size) {
  if (count > 0 && size >= SIZE_MAX / count) {
    errno = ENOMEM;
    return nullptr;
  }
  return sodium_malloc(count * size);
}

void sodium_free(void* ptr) {
  if (ptr == nullptr) return;
  unsigned char* base = static_cast<unsigned char*>(ptr) - kHeader;
  size_t size;
  memcpy(&size, base, sizeof size);
  sodium_memzero(ptr, size);
  free(base);
}

// Nothing is locked in memory (see above); unlocking still zeroes, as
// libsodium's sodium_munlock() does.
int sodium_mlock(void* const, const size_t) { return 0; }

int sodium_munlock(void* const addr, const size_t len) {
  sodium_memzero(addr, len);
  return 0;
}

// Plain heap memory has no page protections of its own to change.
int sodium_mprotect_noaccess(void*) { return 0; }
int sodium_mprotect_readonly(void*) { return 0; }
int sodium_mprotect_readwrite(void*) { return 0; }

}  // extern "C"
