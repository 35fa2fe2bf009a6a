// Settling a JS promise from the threads that run plugin calls.
#pragma once

#include <functional>
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

// What a promise settles with. Built off the JS thread; `value` turns it into JS on the JS thread.
struct Outcome {
  std::optional<Failure> failure;
  std::function<Napi::Value(Napi::Env)> value;
};

// Rejections are Errors carrying `call` and `code` (see Failure).
Napi::Error ToJsError(Napi::Env env, const Failure& failure);

// One promise, settled once from any thread. Owned by its thread-safe function, which deletes it
// after delivery; nothing may touch it after Settle.
class Completion {
 public:
  // On the JS thread.
  static Completion* Start(Napi::Env env);
  Napi::Promise promise() const { return deferred_.Promise(); }
  // On any thread, exactly once.
  void Settle(Outcome outcome);

 private:
  explicit Completion(Napi::Env env) : deferred_(Napi::Promise::Deferred::New(env)) {}
  static void Deliver(Napi::Env env, Napi::Function, Completion* self, Outcome* outcome);
  using Channel = Napi::TypedThreadSafeFunction<Completion, Outcome, &Completion::Deliver>;

  Napi::Promise::Deferred deferred_;
  Channel channel_;
};

}  // namespace asf
