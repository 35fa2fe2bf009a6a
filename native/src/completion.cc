#include "completion.h"

#include <mutex>
#include <vector>

namespace asf {

Napi::Error ToJsError(Napi::Env env, const Failure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  error.Set("call", Napi::String::New(env, failure.call));
  error.Set("code", Napi::Number::New(env, failure.code));
  return error;
}

class Pending::Queue {
 public:
  ~Queue() {
    for (Pending* pending : settled_) delete pending;
  }

  static void Open(Napi::Env env, const std::shared_ptr<Queue>& queue) {
    // The finalizer keeps its own reference: it may run after the environment's instance data is gone.
    auto* kept = new std::shared_ptr<Queue>(queue);
    queue->channel_ = Channel::New(env, "asf-native-calls", 0, 1, queue.get(), [](Napi::Env, std::shared_ptr<Queue>* self, Queue*) {
      (*self)->Close();
      delete self;
    }, kept);
    queue->channel_.Unref(env);
  }

  // The channel is referenced only while promises are pending: an idle wrapper never keeps the
  // process alive, and a pending call always does.
  void Started(Napi::Env env) {
    if (pending_++ == 0) channel_.Ref(env);
  }

  void Push(Pending* pending) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (closed_) {
      lock.unlock();
      delete pending;
      return;
    }
    settled_.push_back(pending);
    if (scheduled_) return;  // the drain already asked for takes this one too
    scheduled_ = true;
    if (channel_.NonBlockingCall() != napi_ok) closed_ = true;  // the environment is shutting down
  }

 private:
  // Without an env the channel is being finalized (and `self` may be gone): nothing to deliver to.
  static void Drain(Napi::Env env, Napi::Function, Queue* self, void*) {
    if (env) self->Deliver(env);
  }
  using Channel = Napi::TypedThreadSafeFunction<Queue, void, &Queue::Drain>;

  void Deliver(Napi::Env env) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      delivering_.swap(settled_);
      scheduled_ = false;
    }
    for (Pending* raw : delivering_) {
      std::unique_ptr<Pending> pending(raw);
      Napi::HandleScope scope(env);
      pending->Deliver(env);
    }
    pending_ -= delivering_.size();
    delivering_.clear();
    if (pending_ == 0) channel_.Unref(env);
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }

  std::mutex mutex_;
  std::vector<Pending*> settled_;
  bool scheduled_ = false;  // a drain is queued on the channel
  bool closed_ = false;
  // JS thread only.
  std::vector<Pending*> delivering_;
  size_t pending_ = 0;
  Channel channel_;
};

void Pending::Setup(Napi::Env env) {
  auto queue = std::make_shared<Queue>();
  Queue::Open(env, queue);
  env.SetInstanceData(new std::shared_ptr<Queue>(std::move(queue)));
}

void Pending::Begin(Napi::Env env) {
  deferred_.emplace(env);
  queue_ = *env.GetInstanceData<std::shared_ptr<Queue>>();
  queue_->Started(env);
}

void Pending::Settle() {
  // Held past Push: once pushed, the JS thread may delete this and its reference.
  std::shared_ptr<Queue> queue = queue_;
  queue->Push(this);
}

void Completion::Settle(Outcome outcome) {
  outcome_ = std::move(outcome);
  Pending::Settle();
}

void Completion::Deliver(Napi::Env env) {
  if (outcome_.failure) {
    deferred_->Reject(ToJsError(env, *outcome_.failure).Value());
    return;
  }
  try {
    deferred_->Resolve(outcome_.value ? outcome_.value(env) : env.Undefined());
  } catch (const Napi::Error& error) {
    deferred_->Reject(error.Value());
  }
}

}  // namespace asf
