#include "workers.h"

#include <thread>

namespace asf {

bool Workers::Run(std::function<void()> job) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->stopping) return false;
  state_->jobs.push_back(std::move(job));
  if (state_->jobs.size() > state_->idle) {
    std::thread([state = state_] { Loop(state); }).detach();
  } else {
    state_->wake.notify_one();
  }
  return true;
}

void Workers::Stop() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stopping = true;
  state_->wake.notify_all();
}

void Workers::Loop(const std::shared_ptr<State>& state) {
  std::unique_lock<std::mutex> lock(state->mutex);
  for (;;) {
    state->idle++;
    state->wake.wait(lock, [&] { return state->stopping || !state->jobs.empty(); });
    state->idle--;
    if (state->jobs.empty()) return;
    std::function<void()> job = std::move(state->jobs.front());
    state->jobs.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

}  // namespace asf
