// Threads that make the plugin calls, so none runs on the Node.js main thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace asf {

// A unit of work for Workers. Run is called once, on a worker thread; the job owns itself from then on.
class Job {
 public:
  virtual ~Job() = default;
  virtual void Run() = 0;
};

// An elastic pool: every queued job gets a thread of its own promptly, so calls run in parallel up
// to the number in flight, which the loader's licence pool bounds. Not libuv's pool: a plugin call
// may block for seconds and must not stall fs or dns work.
//
// Wake-ups are the cost that matters for short calls, so a thread is woken only when no awake
// thread is looking for work, and a thread that takes a job while others wait wakes the next one
// before running it (the job may block). Jobs staged during one JS turn are published together,
// with one lock and at most one wake-up.
class Workers {
 public:
  Workers() = default;
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() { Stop(); }

  // False once stopped: the job will not run (it is still the caller's).
  bool Run(Job* job);
  template <typename Fn>
  bool Run(Fn fn) {
    auto* job = new FnJob<Fn>(std::move(fn));
    if (Run(static_cast<Job*>(job))) return true;
    delete job;
    return false;
  }

  // On the JS thread, before Stop: holds the job until the next flush. True for the first job
  // staged since the last flush: the caller schedules one (a microtask, so that the calls of a
  // whole turn go together).
  bool Stage(Job* job);
  // Publishes the staged jobs (JS thread). Callable after the pool itself is gone.
  std::function<void()> Flusher() const;

  // Threads finish the queued and staged jobs, then exit.
  void Stop();

 private:
  template <typename Fn>
  struct FnJob : Job {
    explicit FnJob(Fn fn) : fn(std::move(fn)) {}
    void Run() override {
      fn();
      delete this;
    }
    Fn fn;
  };

  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job*> jobs;
    size_t idle = 0;     // threads asleep
    size_t tokens = 0;   // wake-ups sent and not yet taken by an idle thread
    size_t looking = 0;  // threads awake and not running a job (woken ones included)
    bool stopping = false;
    std::vector<Job*> staged;  // JS thread only

    // With the mutex held: a thread will come for the queued jobs.
    void EnsureTaker(const std::shared_ptr<State>& self);
  };
  static void Loop(const std::shared_ptr<State>& state);
  static void Flush(const std::shared_ptr<State>& state);

  // Shared with the threads, which are detached: a plugin call that never returns must not
  // block the process from exiting.
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace asf
