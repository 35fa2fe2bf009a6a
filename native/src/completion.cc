#include "completion.h"

#include <memory>

namespace asf {

Napi::Error ToJsError(Napi::Env env, const Failure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  error.Set("call", Napi::String::New(env, failure.call));
  error.Set("code", Napi::Number::New(env, failure.code));
  return error;
}

Completion* Completion::Start(Napi::Env env) {
  auto* self = new Completion(env);
  // Unlimited queue: a call never blocks, so settling from the JS thread is safe too.
  self->channel_ = Channel::New(env, "asf-native-call", 0, 1, self, [](Napi::Env, void*, Completion* done) { delete done; });
  return self;
}

void Completion::Settle(Outcome outcome) {
  Channel channel = channel_;
  auto* data = new Outcome(std::move(outcome));
  if (channel.NonBlockingCall(data) != napi_ok) delete data;  // the environment is shutting down
  // Last use of `this`: the release lets the finalizer delete it after delivery.
  channel.Release();
}

void Completion::Deliver(Napi::Env env, Napi::Function, Completion* self, Outcome* raw) {
  std::unique_ptr<Outcome> outcome(raw);
  if (!env) return;  // the environment is shutting down
  Napi::HandleScope scope(env);
  if (outcome->failure) {
    self->deferred_.Reject(ToJsError(env, *outcome->failure).Value());
    return;
  }
  try {
    self->deferred_.Resolve(outcome->value ? outcome->value(env) : env.Undefined());
  } catch (const Napi::Error& error) {
    self->deferred_.Reject(error.Value());
  }
}

}  // namespace asf
