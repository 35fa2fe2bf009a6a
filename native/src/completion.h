// Settling a JS promise from the threads that run plugin calls.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <napi.h>

namespace asf {

// A failed plugin call: which function, the plugin's code (0 when it gave none) and the text.
struct Failure {
  std::string call;
  int code = 0;
  std::string message;
};

// Rejections are Errors carrying `call` and `code` (see Failure).
Napi::Error ToJsError(Napi::Env env, const Failure& failure);

// One promise, settled once from any thread. Settled promises wait in their environment's queue,
// which one thread-safe function drains on the JS thread: calls that finish together cost one
// wake-up of the event loop, and no call creates or tears down a thread-safe function.
class Pending {
 public:
  class Queue;

  // On the JS thread, once per environment (addon init), before any promise.
  static void Setup(Napi::Env env);

  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  virtual ~Pending() = default;
  // On the JS thread, once, before Settle: makes the promise, which keeps the process alive until
  // it is delivered.
  void Begin(Napi::Env env);
  Napi::Promise promise() const { return deferred_->Promise(); }

 protected:
  Pending() = default;
  // On any thread, exactly once: the queue owns this from then on, and delivers and deletes it.
  void Settle();
  // On the JS thread: resolve or reject deferred_.
  virtual void Deliver(Napi::Env env) = 0;

  std::optional<Napi::Promise::Deferred> deferred_;

 private:
  std::shared_ptr<Queue> queue_;
};

// What a promise settles with. Built off the JS thread; `value` turns it into JS on the JS thread.
struct Outcome {
  std::optional<Failure> failure;
  std::function<Napi::Value(Napi::Env)> value;
};

// A promise for any outcome: the general case (init, sessions, resources, asynchronous calls).
class Completion : public Pending {
 public:
  // On the JS thread.
  static Completion* Start(Napi::Env env) {
    auto* completion = new Completion();
    completion->Begin(env);
    return completion;
  }
  // On any thread, exactly once; nothing may touch the completion afterwards.
  void Settle(Outcome outcome);

 private:
  Completion() = default;
  void Deliver(Napi::Env env) override;

  Outcome outcome_;
};

}  // namespace asf
