#include "controls.h"

#include <cstdio>
#include <mutex>

namespace asf {

namespace {

std::mutex mutex;
std::map<std::string, long long> totals;

}  // namespace

int OnMeter(const void*, const char* meterKey, int count) {
  if (!meterKey) return -1;
  std::lock_guard<std::mutex> lock(mutex);
  totals[meterKey] += count;
  return 0;
}

int OnTrace(const char* usrTag, const char* key, const char* value) {
  // One fprintf call: stdio locks the stream, so lines from plugin threads do not interleave.
  std::fprintf(stderr, "wrapper trace [%s] %s=%s\n", usrTag ? usrTag : "", key ? key : "", value ? value : "");
  return 0;
}

std::map<std::string, long long> MeterTotals() {
  std::lock_guard<std::mutex> lock(mutex);
  return totals;
}

}  // namespace asf
