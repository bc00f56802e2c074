#include "common/status.h"

#include <cstring>

namespace orchestra::common {

namespace {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "OK";
    case Status::Code::kInvalidArgument: return "InvalidArgument";
    case Status::Code::kNotFound: return "NotFound";
    case Status::Code::kConflict: return "Conflict";
    case Status::Code::kPermissionDenied: return "PermissionDenied";
    case Status::Code::kUnavailable: return "Unavailable";
    case Status::Code::kIoError: return "IoError";
    case Status::Code::kInternal: return "Internal";
  }
  return "Unknown";
}

}  // namespace

Status::Status(Code code, std::string_view where, std::string_view what)
    : code_(code) {
  message_.reserve(where.size() + what.size() + 2);
  message_.append(where);
  if (!where.empty() && !what.empty()) message_.append(": ");
  what_at_ = message_.size();
  message_.append(what);
}

Status Status::InvalidArgument(std::string_view where, std::string_view what) {
  return Status(Code::kInvalidArgument, where, what);
}
Status Status::NotFound(std::string_view where, std::string_view what) {
  return Status(Code::kNotFound, where, what);
}
Status Status::Conflict(std::string_view where, std::string_view what) {
  return Status(Code::kConflict, where, what);
}
Status Status::PermissionDenied(std::string_view where,
                                std::string_view what) {
  return Status(Code::kPermissionDenied, where, what);
}
Status Status::Unavailable(std::string_view where, std::string_view what) {
  return Status(Code::kUnavailable, where, what);
}
Status Status::IoError(std::string_view where, std::string_view what) {
  return Status(Code::kIoError, where, what);
}
Status Status::Internal(std::string_view where, std::string_view what) {
  return Status(Code::kInternal, where, what);
}

Status Status::FromErrno(std::string_view where, int error_number) {
  if (error_number == ENOENT)
    return Status(Code::kNotFound, where, std::strerror(error_number));
  if (error_number == EACCES || error_number == EPERM)
    return Status(Code::kPermissionDenied, where, std::strerror(error_number));
  return Status(Code::kIoError, where, std::strerror(error_number));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace orchestra::common
