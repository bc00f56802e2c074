// Status says whether an operation succeeded and, if not, why. Cheap to copy
// when OK. Results are [[nodiscard]], so an ignored error is a warning.
// Modelled on leveldb's Status.

#ifndef ORCHESTRA_COMMON_STATUS_H_
#define ORCHESTRA_COMMON_STATUS_H_

#include <string>
#include <string_view>

namespace orchestra::common {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,
    kNotFound,
    kConflict,
    kPermissionDenied,
    kUnavailable,
    kIoError,
    kInternal
  };

  Status() = default;  // OK

  // Each factory takes where the failure happened (a file:line, a peer, a
  // path) and what went wrong, ideally with the fix.
  static Status InvalidArgument(std::string_view where, std::string_view what);
  static Status NotFound(std::string_view where, std::string_view what);
  static Status Conflict(std::string_view where, std::string_view what);
  static Status PermissionDenied(std::string_view where,
                                 std::string_view what);
  static Status Unavailable(std::string_view where, std::string_view what);
  static Status IoError(std::string_view where, std::string_view what);
  static Status Internal(std::string_view where, std::string_view what);

  // An IoError for `where` from errno value `error_number`.
  static Status FromErrno(std::string_view where, int error_number);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  // "where: what", without the code name; empty when OK.
  const std::string& message() const { return message_; }
  // Only what went wrong, without where ("disk full").
  std::string_view what() const {
    return std::string_view(message_).substr(what_at_);
  }
  // e.g. "InvalidArgument: conductor.conf:14: unknown key 'hartbeat'"
  std::string ToString() const;

 private:
  Status(Code code, std::string_view where, std::string_view what);

  Code code_ = Code::kOk;
  std::string message_;  // Empty when OK.
  size_t what_at_ = 0;   // Where `what` starts in message_.
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_STATUS_H_
