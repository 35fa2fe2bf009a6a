// Where results handed to wrapperCallback go. The callback carries no context but the usrTag, so
// listeners are found by tag in a process-wide table.
#pragma once

#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include <napi.h>

#include "completion.h"
#include "library.h"
#include "lists.h"

namespace asf {

class Listener {
 public:
  explicit Listener(const void* owner) : owner_(owner) {}
  virtual ~Listener() = default;
  // On a plugin thread, with a copy of the list the plugin passed.
  virtual void Receive(std::vector<Item> items, int ret) = 0;
  // No more results will be taken: `why` is empty for a normal end (session destroyed), else the
  // reason the listener gives up (timeout, host closing, corrupt list).
  virtual void Stop(const std::string& why) = 0;
  const void* owner() const { return owner_; }

 private:
  const void* owner_;
};

namespace listeners {
// False when the tag already has a listener: tags of calls in flight must be unique.
bool Add(const std::string& tag, std::shared_ptr<Listener> listener);
// Removes the tag's listener if it is still `which`.
void Remove(const std::string& tag, const Listener* which);
std::shared_ptr<Listener> Find(const std::string& tag);
std::shared_ptr<Listener> Take(const std::string& tag);
std::vector<std::shared_ptr<Listener>> TakeAll(const void* owner);
}  // namespace listeners

// The wrapperCallback handed to wrapperExecAsync and, in asynchronous mode, wrapperCreate.
int OnResult(const void* usrTag, pDataList respData, int ret);

// A one-shot wrapperExecAsync call: gathers callbacks until one ends the request (an item with
// status DataEnd/DataOnce, or ret != 0). Items of one key sent over several callbacks are joined
// in arrival order.
class OnceCall : public Listener {
 public:
  OnceCall(const void* owner, std::string tag, std::shared_ptr<const Library> lib, Completion* completion)
      : Listener(owner), tag_(std::move(tag)), lib_(std::move(lib)), completion_(completion) {}
  void Receive(std::vector<Item> items, int ret) override;
  void Stop(const std::string& why) override;
  // Fails the call unless it has already ended.
  void Fail(Failure failure);

 private:
  void Finish(Outcome outcome);  // with mutex_ held

  const std::string tag_;
  const std::shared_ptr<const Library> lib_;
  std::mutex mutex_;
  bool done_ = false;
  std::vector<Item> items_;
  Completion* completion_;
};

// Results of an asynchronous session, each callback passed on to a JS function (error, items).
class SessionStream : public Listener {
 public:
  // On the JS thread.
  SessionStream(const void* owner, Napi::Env env, Napi::Function onResult, std::shared_ptr<const Library> lib);
  void Receive(std::vector<Item> items, int ret) override;
  void Stop(const std::string& why) override;

 private:
  struct Delivery {
    std::vector<Item> items;
    std::optional<Failure> failure;
  };
  static void Deliver(Napi::Env env, Napi::Function onResult, void*, Delivery* delivery);
  using Channel = Napi::TypedThreadSafeFunction<void, Delivery, &SessionStream::Deliver>;

  const std::shared_ptr<const Library> lib_;
  std::mutex mutex_;
  bool stopped_ = false;
  Channel channel_;
};

}  // namespace asf
