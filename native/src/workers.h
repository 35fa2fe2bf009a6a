// Threads that make the plugin calls, so none runs on the Node.js main thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

namespace asf {

// An elastic pool: a job that finds no idle thread gets a new one, so calls run in parallel up to
// the number in flight, which the loader's licence pool bounds. Idle threads wait for the next job.
// Not libuv's pool: a plugin call may block for seconds and must not stall fs or dns work.
class Workers {
 public:
  Workers() = default;
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() { Stop(); }

  // False once stopped: the job will not run.
  bool Run(std::function<void()> job);
  // Threads finish the queued jobs, then exit.
  void Stop();

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;
    size_t idle = 0;
    bool stopping = false;
  };
  static void Loop(const std::shared_ptr<State>& state);

  // Shared with the threads, which are detached: a plugin call that never returns must not
  // block the process from exiting.
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace asf
