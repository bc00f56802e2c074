// The version of Orchestra, shown by --version and sent in hello.

#ifndef ORCHESTRA_COMMON_VERSION_H_
#define ORCHESTRA_COMMON_VERSION_H_

namespace orchestra::common {

constexpr const char kVersion[] = "0.1.0";

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_VERSION_H_
