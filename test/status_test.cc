// Tests for common/status.h and common/result.h.

#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "common/result.h"

namespace orchestra::common {
namespace {

class StatusTest : public testing::Test {};

TEST_F(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(Status::Code::kOk, s.code());
  EXPECT_EQ("", s.message());
  EXPECT_EQ("OK", s.ToString());
}

TEST_F(StatusTest, FactoryJoinsWhereAndWhat) {
  Status s = Status::InvalidArgument("conductor.conf:14", "unknown key 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, s.code());
  EXPECT_EQ("conductor.conf:14: unknown key 'x'", s.message());
  EXPECT_EQ("InvalidArgument: conductor.conf:14: unknown key 'x'",
            s.ToString());
}

TEST_F(StatusTest, EmptyWhereLeavesOnlyWhat) {
  EXPECT_EQ("gone", Status::NotFound("", "gone").message());
  EXPECT_EQ("here", Status::NotFound("here", "").message());
}

TEST_F(StatusTest, WhatLeavesOutWhere) {
  EXPECT_EQ("disk full", Status::IoError("sqlite /db", "disk full").what());
  EXPECT_EQ("gone", Status::NotFound("", "gone").what());
  EXPECT_EQ("", Status::NotFound("here", "").what());
  Status copy = Status::Conflict("job 3", "already finished");
  EXPECT_EQ("already finished", Status(copy).what());
}

TEST_F(StatusTest, EachFactoryHasItsOwnCodeAndName) {
  EXPECT_EQ("NotFound: a: b", Status::NotFound("a", "b").ToString());
  EXPECT_EQ("Conflict: a: b", Status::Conflict("a", "b").ToString());
  EXPECT_EQ("PermissionDenied: a: b",
            Status::PermissionDenied("a", "b").ToString());
  EXPECT_EQ("Unavailable: a: b", Status::Unavailable("a", "b").ToString());
  EXPECT_EQ("IoError: a: b", Status::IoError("a", "b").ToString());
  EXPECT_EQ("Internal: a: b", Status::Internal("a", "b").ToString());
}

TEST_F(StatusTest, FromErrnoMapsMissingAndDeniedFiles) {
  EXPECT_EQ(Status::Code::kNotFound, Status::FromErrno("f", ENOENT).code());
  EXPECT_EQ(Status::Code::kPermissionDenied,
            Status::FromErrno("f", EACCES).code());
  EXPECT_EQ(Status::Code::kPermissionDenied,
            Status::FromErrno("f", EPERM).code());
  EXPECT_EQ(Status::Code::kIoError, Status::FromErrno("f", EIO).code());
}

TEST_F(StatusTest, FromErrnoNamesThePathAndTheError) {
  Status s = Status::FromErrno("/etc/orchestra/players", ENOENT);
  EXPECT_EQ(std::string("/etc/orchestra/players: ") + std::strerror(ENOENT),
            s.message());
}

TEST_F(StatusTest, CopyKeepsCodeAndMessage) {
  Status original = Status::Conflict("job 3", "already finished");
  Status copy = original;
  EXPECT_EQ(original.code(), copy.code());
  EXPECT_EQ(original.message(), copy.message());
}

class ResultTest : public testing::Test {};

TEST_F(ResultTest, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(42, r.value());
}

TEST_F(ResultTest, HoldsAnError) {
  Result<int> r = Status::NotFound("job 9", "no such job");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(Status::Code::kNotFound, r.status().code());
  EXPECT_EQ("job 9: no such job", r.status().message());
}

TEST_F(ResultTest, ValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> owned = std::move(r).value();
  ASSERT_NE(nullptr, owned);
  EXPECT_EQ(7, *owned);
}

TEST_F(ResultTest, ValueCanBeChangedInPlace) {
  Result<std::string> r = std::string("a");
  r.value() += "b";
  EXPECT_EQ("ab", r.value());
}

}  // namespace
}  // namespace orchestra::common
