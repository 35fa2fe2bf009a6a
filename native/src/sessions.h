// Open streaming sessions, known to JS by number so that a stale or forged handle never reaches a plugin.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "listeners.h"

namespace asf {

struct Session {
  // Held during each plugin call on the session: calls on one handle never overlap, and
  // wrapperDestroy waits for a write or read in progress.
  std::mutex mutex;
  const void* handle = nullptr;
  bool open = true;
  std::string tag;
  // Asynchronous mode only.
  std::shared_ptr<SessionStream> stream;
};

class Sessions {
 public:
  uint32_t Add(std::shared_ptr<Session> session) {
    std::lock_guard<std::mutex> lock(mutex_);
    uint32_t id = next_++;
    byId_.emplace(id, std::move(session));
    return id;
  }
  std::shared_ptr<Session> Find(uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = byId_.find(id);
    return found == byId_.end() ? nullptr : found->second;
  }
  std::shared_ptr<Session> Take(uint32_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = byId_.find(id);
    if (found == byId_.end()) return nullptr;
    auto session = std::move(found->second);
    byId_.erase(found);
    return session;
  }

 private:
  std::mutex mutex_;
  uint32_t next_ = 1;
  std::unordered_map<uint32_t, std::shared_ptr<Session>> byId_;
};

}  // namespace asf
