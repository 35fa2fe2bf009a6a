// The JS class over one opened libwrapper.so: every ABI call, run on worker threads, as a promise.
#pragma once

#include <memory>

#include <napi.h>

#include "library.h"
#include "sessions.h"
#include "workers.h"

namespace asf {

// What open() resolves with and `new Wrapper(...)` takes: an opened library, type-tagged.
using LibraryHandle = Napi::External<std::shared_ptr<const Library>>;
Napi::Value NewLibraryHandle(Napi::Env env, std::shared_ptr<const Library> lib);

class Wrapper : public Napi::ObjectWrap<Wrapper> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Wrapper(const Napi::CallbackInfo& info);

 private:
  // init(config) → version: wrapperSetCtrl (meter, trace), wrapperVersion, wrapperInit.
  Napi::Value Init(const Napi::CallbackInfo& info);
  Napi::Value Fini(const Napi::CallbackInfo& info);
  // exec(tag, params, items, psrIds) → items: wrapperExec, copy, wrapperExecFree.
  Napi::Value Exec(const Napi::CallbackInfo& info);
  // execAsync(tag, params, items, timeoutMs, psrIds) → items gathered from the callbacks.
  Napi::Value ExecAsync(const Napi::CallbackInfo& info);
  // abandon(tag, why) → whether a call was still waiting: later callbacks for it are dropped.
  Napi::Value Abandon(const Napi::CallbackInfo& info);
  // create(tag, params, psrIds, onResult?) → session id; onResult(error, items) makes it asynchronous.
  Napi::Value Create(const Napi::CallbackInfo& info);
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value DebugInfo(const Napi::CallbackInfo& info);
  // loadRes(resId, key, data) and unloadRes(resId): personalisation resources.
  Napi::Value LoadRes(const Napi::CallbackInfo& info);
  Napi::Value UnloadRes(const Napi::CallbackInfo& info);
  // close(): no more calls; waiting asynchronous calls and sessions fail.
  Napi::Value Close(const Napi::CallbackInfo& info);

  std::shared_ptr<const Library> lib_;
  Workers workers_;
  std::shared_ptr<Sessions> sessions_ = std::make_shared<Sessions>();
};

}  // namespace asf
