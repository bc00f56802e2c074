// SystemdNotifier tells systemd how a daemon is doing (sd_notify): READY
// once it serves, RELOADING and READY around a reload, STOPPING, a STATUS
// line for `systemctl status`, and the watchdog keep-alive that the loop
// sends at half the interval WatchdogSec= asks for. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing. Owned by the daemon's loop thread.

#ifndef ORCHESTRA_COMMON_SYSTEMD_NOTIFIER_H_
#define ORCHESTRA_COMMON_SYSTEMD_NOTIFIER_H_

#include <string>
#include <string_view>

#include "common/clock.h"

namespace orchestra::common {

class SystemdNotifier {
 public:
  // Reads the watchdog interval from the environment (WATCHDOG_USEC and
  // WATCHDOG_PID, which systemd sets); `now` is the monotonic time, from
  // which the first keep-alive is due.
  explicit SystemdNotifier(TimeMs now);

  // The daemon serves: its endpoints are bound and its recovery is done.
  void Ready(std::string_view status);
  // A reload (SIGHUP) begins; Ready() ends it.
  void Reloading();
  // The daemon is stopping.
  void Stopping(std::string_view status);

  // Milliseconds between keep-alives: half the watchdog interval, 0 when
  // systemd runs no watchdog for us.
  TimeMs keep_alive_ms() const { return keep_alive_ms_; }
  // When the next keep-alive is due (monotonic), 0 without a watchdog.
  TimeMs NextKeepAlive() const { return next_keep_alive_; }
  // Sends WATCHDOG=1 if one is due at `now`.
  void KeepAlive(TimeMs now);

 private:
  void Notify(const std::string& state);

  TimeMs keep_alive_ms_ = 0;
  TimeMs next_keep_alive_ = 0;
  bool warned_ = false;  // a failed notification is logged once
};

}  // namespace orchestra::common

#endif  // ORCHESTRA_COMMON_SYSTEMD_NOTIFIER_H_
