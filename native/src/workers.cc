#include "workers.h"

#include <thread>

namespace asf {

void Workers::State::EnsureTaker(const std::shared_ptr<State>& self) {
  if (jobs.empty() || looking > 0) return;
  looking++;
  if (idle > tokens) {
    tokens++;
    wake.notify_one();
  } else {
    std::thread([self] { Loop(self); }).detach();
  }
}

bool Workers::Run(Job* job) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->stopping) return false;
  state_->jobs.push_back(job);
  state_->EnsureTaker(state_);
  return true;
}

bool Workers::Stage(Job* job) {
  state_->staged.push_back(job);
  return state_->staged.size() == 1;
}

std::function<void()> Workers::Flusher() const {
  return [state = state_] { Flush(state); };
}

void Workers::Flush(const std::shared_ptr<State>& state) {
  if (state->staged.empty()) return;
  std::lock_guard<std::mutex> lock(state->mutex);
  state->jobs.insert(state->jobs.end(), state->staged.begin(), state->staged.end());
  state->staged.clear();
  state->EnsureTaker(state);
}

void Workers::Stop() {
  Flush(state_);
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->stopping = true;
  state_->wake.notify_all();
  // Queued jobs still run, even if no thread was started for them yet.
  state_->EnsureTaker(state_);
}

// A thread starts looking for work (counted in `looking` by whoever started or woke it).
void Workers::Loop(const std::shared_ptr<State>& state) {
  std::unique_lock<std::mutex> lock(state->mutex);
  for (;;) {
    if (!state->jobs.empty()) {
      Job* job = state->jobs.front();
      state->jobs.pop_front();
      state->looking--;
      // The job may block for long: the ones behind it need another thread.
      state->EnsureTaker(state);
      lock.unlock();
      job->Run();
      lock.lock();
      state->looking++;
      continue;
    }
    state->looking--;
    if (state->stopping) return;
    state->idle++;
    state->wake.wait(lock, [&] { return state->tokens > 0 || state->stopping; });
    state->idle--;
    if (state->tokens > 0) {
      state->tokens--;  // the waker counted this thread as looking
    } else {
      state->looking++;  // woken by Stop
    }
  }
}

}  // namespace asf
