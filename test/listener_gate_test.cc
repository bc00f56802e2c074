// Tests for broker/listener_gate.h on loopback: a shut listener completes
// no new connection while those it had go on, and takes them again once
// opened.

#include "broker/listener_gate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/unique_fd.h"
#include "test/test_util.h"

namespace orchestra::broker {
namespace {

class ListenerGateTest : public testing::Test {
 protected:
  void SetUp() override {
    listener_.Reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address_);
    ASSERT_EQ(0, bind(listener_.get(), Address(), size));
    ASSERT_EQ(0, getsockname(listener_.get(), Address(), &size));
    ASSERT_EQ(0, listen(listener_.get(), 16));
  }
  sockaddr* Address() { return reinterpret_cast<sockaddr*>(&address_); }
  // A non-blocking connect to the listener.
  common::UniqueFd Connect() {
    common::UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    const int rc = connect(fd.get(), Address(), sizeof(address_));
    EXPECT_TRUE(rc == 0 || errno == EINPROGRESS);
    return fd;
  }
  // True when `fd`'s connect completes within `ms`.
  static bool Connected(int fd, int ms) {
    struct pollfd item = {fd, POLLOUT, 0};
    if (poll(&item, 1, ms) != 1) return false;
    int error = -1;
    socklen_t size = sizeof(error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
    return error == 0;
  }
  common::UniqueFd Accept() {
    return common::UniqueFd(accept4(listener_.get(), nullptr, nullptr, 0));
  }

  common::UniqueFd listener_;
  struct sockaddr_in address_ = {};
};

TEST_F(ListenerGateTest, AShutListenerCompletesNoNewConnection) {
  ASSERT_OK(ShutListener(listener_.get()));
  common::UniqueFd waiting = Connect();
  EXPECT_FALSE(Connected(waiting.get(), 300));
}

TEST_F(ListenerGateTest, ConnectionsItHadGoOnWhileShut) {
  common::UniqueFd client = Connect();
  ASSERT_TRUE(Connected(client.get(), 5000));
  common::UniqueFd server = Accept();
  ASSERT_TRUE(server.valid());
  ASSERT_OK(ShutListener(listener_.get()));
  ASSERT_EQ(1, write(client.get(), "x", 1));
  char c = 0;
  EXPECT_EQ(1, read(server.get(), &c, 1));
  EXPECT_EQ(1, write(server.get(), "y", 1));
  struct pollfd item = {client.get(), POLLIN, 0};
  ASSERT_EQ(1, poll(&item, 1, 5000));
  EXPECT_EQ(1, read(client.get(), &c, 1));
  EXPECT_EQ('y', c);
}

TEST_F(ListenerGateTest, AnOpenedListenerTakesConnectionsAgain) {
  ASSERT_OK(ShutListener(listener_.get()));
  ASSERT_OK(OpenListener(listener_.get()));
  common::UniqueFd client = Connect();
  EXPECT_TRUE(Connected(client.get(), 5000));
  EXPECT_TRUE(Accept().valid());
}

TEST_F(ListenerGateTest, OpeningAnOpenListenerIsHarmless) {
  EXPECT_OK(OpenListener(listener_.get()));
}

TEST_F(ListenerGateTest, OnlyListeningTcpSocketsAreShut) {
  common::UniqueFd client = Connect();
  EXPECT_FALSE(ShutListener(client.get()).ok());
  EXPECT_FALSE(ShutListener(-1).ok());
}

}  // namespace
}  // namespace orchestra::broker
