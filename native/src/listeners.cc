#include "listeners.h"

#include <algorithm>
#include <unordered_map>

#include "convert.h"

namespace asf {

namespace listeners {
namespace {

std::mutex mutex;
std::unordered_map<std::string, std::shared_ptr<Listener>> byTag;

}  // namespace

bool Add(const std::string& tag, std::shared_ptr<Listener> listener) {
  std::lock_guard<std::mutex> lock(mutex);
  return byTag.emplace(tag, std::move(listener)).second;
}

void Remove(const std::string& tag, const Listener* which) {
  std::lock_guard<std::mutex> lock(mutex);
  auto found = byTag.find(tag);
  if (found != byTag.end() && found->second.get() == which) byTag.erase(found);
}

std::shared_ptr<Listener> Take(const std::string& tag) {
  std::lock_guard<std::mutex> lock(mutex);
  auto found = byTag.find(tag);
  if (found == byTag.end()) return nullptr;
  auto listener = std::move(found->second);
  byTag.erase(found);
  return listener;
}

std::vector<std::shared_ptr<Listener>> TakeAll(const void* owner) {
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::shared_ptr<Listener>> taken;
  for (auto it = byTag.begin(); it != byTag.end();) {
    if (it->second->owner() == owner) {
      taken.push_back(std::move(it->second));
      it = byTag.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

std::shared_ptr<Listener> Find(const std::string& tag) {
  std::lock_guard<std::mutex> lock(mutex);
  auto found = byTag.find(tag);
  return found == byTag.end() ? nullptr : found->second;
}

}  // namespace listeners

int OnResult(const void* usrTag, pDataList respData, int ret) {
  if (!usrTag) return -1;
  std::string tag = static_cast<const char*>(usrTag);
  auto listener = listeners::Find(tag);
  if (!listener) return -1;  // ended already (timeout) or never ours
  std::vector<Item> items;
  try {
    items = CopyList(respData);
  } catch (const std::exception& error) {
    // No exception may cross back into the plugin.
    listener->Stop(error.what());
    return -1;
  }
  listener->Receive(std::move(items), ret);
  return 0;
}

void OnceCall::Receive(std::vector<Item> items, int ret) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    if (ret != 0) {
      Finish(Outcome{Failure{"wrapperExecAsync", ret, lib_->ErrorText(ret)}, {}});
    } else {
      bool last = false;
      for (Item& item : items) {
        last = last || item.status == DataEnd || item.status == DataOnce;
        auto same = std::find_if(items_.begin(), items_.end(), [&](const Item& kept) { return kept.key == item.key; });
        if (same == items_.end()) {
          items_.push_back(std::move(item));
          continue;
        }
        same->data.insert(same->data.end(), item.data.begin(), item.data.end());
        same->type = item.type;
        same->status = item.status;
        same->desc = std::move(item.desc);
      }
      if (!last) return;
      Finish(Outcome{std::nullopt, [items = std::move(items_)](Napi::Env env) mutable -> Napi::Value {
                       return ItemsToJs(env, items);
                     }});
    }
  }
  listeners::Remove(tag_, this);
}

void OnceCall::Stop(const std::string& why) { Fail(Failure{"wrapperExecAsync", 0, why}); }

void OnceCall::Fail(Failure failure) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    Finish(Outcome{std::move(failure), {}});
  }
  listeners::Remove(tag_, this);
}

void OnceCall::Finish(Outcome outcome) {
  done_ = true;
  completion_->Settle(std::move(outcome));
  completion_ = nullptr;
}

SessionStream::SessionStream(const void* owner, Napi::Env env, Napi::Function onResult, std::shared_ptr<const Library> lib)
    : Listener(owner), lib_(std::move(lib)), channel_(Channel::New(env, onResult, "asf-native-session", 0, 1)) {}

void SessionStream::Receive(std::vector<Item> items, int ret) {
  auto* delivery = new Delivery{std::move(items), std::nullopt};
  if (ret != 0) delivery->failure = Failure{"wrapperCallback", ret, lib_->ErrorText(ret)};
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_ || channel_.NonBlockingCall(delivery) != napi_ok) delete delivery;
}

void SessionStream::Stop(const std::string& why) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (!why.empty()) {
    auto* delivery = new Delivery{{}, Failure{"wrapperCallback", 0, why}};
    if (channel_.NonBlockingCall(delivery) != napi_ok) delete delivery;
  }
  channel_.Release();
}

void SessionStream::Deliver(Napi::Env env, Napi::Function onResult, void*, Delivery* raw) {
  std::unique_ptr<Delivery> delivery(raw);
  if (!env) return;
  Napi::HandleScope scope(env);
  try {
    if (delivery->failure) {
      onResult.Call({ToJsError(env, *delivery->failure).Value()});
    } else {
      onResult.Call({env.Null(), ItemsToJs(env, delivery->items)});
    }
  } catch (const Napi::Error& error) {
    // A throwing listener is the JS side's bug: surface it as an uncaught exception there.
    error.ThrowAsJavaScriptException();
  }
}

}  // namespace asf
