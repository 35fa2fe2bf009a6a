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
  // Requests are packed, their items' bytes beside them, and answers built as convert.h has them.
  // init(packed config) → version: wrapperSetCtrl (meter, trace), wrapperVersion, wrapperInit.
  Napi::Value Init(const Napi::CallbackInfo& info);
  Napi::Value Fini(const Napi::CallbackInfo& info);
  // exec(packed, data, psrIds?) → answer: wrapperExec, copy, wrapperExecFree. The hot path.
  Napi::Value Exec(const Napi::CallbackInfo& info);
  // execAsync(packed, data, timeoutMs, psrIds?) → answer gathered from the callbacks.
  Napi::Value ExecAsync(const Napi::CallbackInfo& info);
  // abandon(tag, why) → whether a call was still waiting: later callbacks for it are dropped.
  Napi::Value Abandon(const Napi::CallbackInfo& info);
  // create(packed, psrIds?, onResult?) → session id; onResult(error, answer) makes it asynchronous.
  Napi::Value Create(const Napi::CallbackInfo& info);
  // write(session, packed items, data); read(session) → answer.
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
  // One-shot calls are staged and published by a microtask: the calls of one turn share a wake-up.
  Napi::FunctionReference queueMicrotask_;
  Napi::FunctionReference flush_;
  bool closed_ = false;
};

}  // namespace asf
