// The messages follow sd_notify(3). RELOADING=1 carries MONOTONIC_USEC, as
// systemd 253's Type=notify-reload requires, so the daemon is ready for
// either reload style. The keep-alive period is half the watchdog interval:
// a loop that stalls for longer than that gets restarted by systemd.

#include "common/systemd_notifier.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace orchestra::common {

namespace {

std::string MonotonicUsec() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000u +
                        static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  return std::to_string(usec);
}

// A STATUS= value is one line.
std::string OneLine(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

}  // namespace

SystemdNotifier::SystemdNotifier(TimeMs now) {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    keep_alive_ms_ = std::max<TimeMs>(1, static_cast<TimeMs>(usec / 2000));
    next_keep_alive_ = now + keep_alive_ms_;
  }
}

void SystemdNotifier::Ready(std::string_view status) {
  Notify("READY=1\nSTATUS=" + OneLine(status));
}

void SystemdNotifier::Reloading() {
  Notify("RELOADING=1\nMONOTONIC_USEC=" + MonotonicUsec() +
         "\nSTATUS=reloading");
}

void SystemdNotifier::Stopping(std::string_view status) {
  Notify("STOPPING=1\nSTATUS=" + OneLine(status));
}

void SystemdNotifier::KeepAlive(TimeMs now) {
  if (keep_alive_ms_ == 0 || now < next_keep_alive_) return;
  Notify("WATCHDOG=1");
  next_keep_alive_ = now + keep_alive_ms_;
}

void SystemdNotifier::Notify(const std::string& state) {
  const int rc = sd_notify(0, state.c_str());
  if (rc >= 0 || warned_) return;
  warned_ = true;
  LogWarning("systemd notification failed error=%s",
             LogQuote(std::strerror(-rc)).c_str());
}

}  // namespace orchestra::common
