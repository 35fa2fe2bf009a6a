#include "wrapper.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "completion.h"
#include "controls.h"
#include "convert.h"
#include "listeners.h"
#include "lists.h"

namespace asf {

namespace {

constexpr napi_type_tag kLibraryTag = {0x6173666e61746976ULL, 0x656c696272617279ULL};

Outcome Failed(const char* call, int ret, const Library& lib) { return Outcome{Failure{call, ret, lib.ErrorText(ret)}, {}}; }

Outcome Unknown(const char* call, uint32_t id) {
  return Outcome{Failure{call, 0, "unknown session " + std::to_string(id) + " (destroyed or never created)"}, {}};
}

Outcome ItemsOutcome(std::vector<Item> items) {
  return Outcome{std::nullopt, [items = std::move(items)](Napi::Env env) mutable -> Napi::Value { return ItemsToJs(env, items); }};
}

Napi::Value Rejected(Napi::Env env, const Failure& failure) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(ToJsError(env, failure).Value());
  return deferred.Promise();
}

// Runs `body` on a worker thread; the promise settles with its outcome. A C++ exception from it
// (a copy that failed, or one a C++ plugin let escape) becomes a rejection naming `call`.
template <typename Body>
Napi::Value Run(Workers& workers, Napi::Env env, const char* call, Body body) {
  Completion* completion = Completion::Start(env);
  Napi::Promise promise = completion->promise();
  bool queued = workers.Run([completion, call, body = std::move(body)]() mutable {
    Outcome outcome;
    try {
      outcome = body();
    } catch (const std::exception& error) {
      outcome = Outcome{Failure{call, 0, error.what()}, {}};
    } catch (...) {
      outcome = Outcome{Failure{call, 0, std::string(call) + " threw a C++ exception"}, {}};
    }
    completion->Settle(std::move(outcome));
  });
  if (!queued) completion->Settle(Outcome{Failure{call, 0, "the wrapper host is closed"}, {}});
  return promise;
}

uint32_t SessionId(const Napi::CallbackInfo& info) { return info[0].ToNumber().Uint32Value(); }

// One wrapperExec call from staging to its promise, in one allocation: the request and the copy
// of the answer share the call's arena, and the call is its own job and its own completion.
class ExecCall final : public Pending, public Job {
 public:
  explicit ExecCall(std::shared_ptr<const Library> lib) : lib_(std::move(lib)) {}

  Request request;

  void Run() override {
    const char* tag = request.tag;
    try {
      pDataList response = nullptr;
      int ret = lib_->exec(tag, request.params, request.items, &response, request.ids, request.idCount);
      if (ret == 0) {
        try {
          answer_ = CopyList(response, request.arena);
        } catch (const std::exception& error) {
          failure_ = Failure{"wrapperExec", 0, error.what()};
        }
      }
      // Whatever the plugin returned is its to free, and only after the copy above.
      if (response) lib_->execFree(tag, &response);
      if (ret) failure_ = Failure{"wrapperExec", ret, lib_->ErrorText(ret)};
    } catch (...) {
      failure_ = Failure{"wrapperExec", 0, "wrapperExec threw a C++ exception"};
    }
    Settle();
  }

 private:
  void Deliver(Napi::Env env) override {
    if (failure_) {
      deferred_->Reject(ToJsError(env, *failure_).Value());
      return;
    }
    try {
      deferred_->Resolve(ItemsToJs(env, answer_, request.arena));
    } catch (const Napi::Error& error) {
      deferred_->Reject(error.Value());
    }
  }

  const std::shared_ptr<const Library> lib_;
  pDataList answer_ = nullptr;
  std::optional<Failure> failure_;
};

// A request read into its own arena, for the calls that are not on the hot path.
std::shared_ptr<Request> NewRequest(Napi::Env env, Napi::Value packed, Napi::Value data, Napi::Value ids, unsigned holds) {
  auto request = std::make_shared<Request>();
  RequestFromJs(env, packed, data, holds, *request);
  IdsFromJs(env, ids, *request);
  return request;
}

}  // namespace

Napi::Value NewLibraryHandle(Napi::Env env, std::shared_ptr<const Library> lib) {
  auto handle = LibraryHandle::New(env, new std::shared_ptr<const Library>(std::move(lib)),
                                   [](Napi::Env, std::shared_ptr<const Library>* kept) { delete kept; });
  handle.TypeTag(&kLibraryTag);
  return handle;
}

Napi::Function Wrapper::Define(Napi::Env env) {
  return DefineClass(env, "Wrapper",
                     {
                         InstanceMethod<&Wrapper::Init>("init"),
                         InstanceMethod<&Wrapper::Fini>("fini"),
                         InstanceMethod<&Wrapper::Exec>("exec"),
                         InstanceMethod<&Wrapper::ExecAsync>("execAsync"),
                         InstanceMethod<&Wrapper::Abandon>("abandon"),
                         InstanceMethod<&Wrapper::Create>("create"),
                         InstanceMethod<&Wrapper::Write>("write"),
                         InstanceMethod<&Wrapper::Read>("read"),
                         InstanceMethod<&Wrapper::Destroy>("destroy"),
                         InstanceMethod<&Wrapper::DebugInfo>("debugInfo"),
                         InstanceMethod<&Wrapper::LoadRes>("loadRes"),
                         InstanceMethod<&Wrapper::UnloadRes>("unloadRes"),
                         InstanceMethod<&Wrapper::Close>("close"),
                     });
}

Wrapper::Wrapper(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Wrapper>(info) {
  Napi::Value arg = info[0];
  if (!arg.IsExternal() || !arg.As<LibraryHandle>().CheckTypeTag(&kLibraryTag)) {
    throw Napi::TypeError::New(info.Env(), "new Wrapper(library) takes what open(path) resolved with");
  }
  lib_ = *arg.As<LibraryHandle>().Data();
  Napi::Env env = info.Env();
  queueMicrotask_ = Napi::Persistent(env.Global().Get("queueMicrotask").As<Napi::Function>());
  flush_ = Napi::Persistent(Napi::Function::New(env, [flush = workers_.Flusher()](const Napi::CallbackInfo&) { flush(); }, "flush"));
}

Napi::Value Wrapper::Init(const Napi::CallbackInfo& info) {
  Napi::Value none = info.Env().Undefined();
  auto config = NewRequest(info.Env(), info[0], none, none, kParams);
  return Run(workers_, info.Env(), "wrapperInit", [lib = lib_, config]() -> Outcome {
    // A plugin that does not take a control returns an error; the loader works without it.
    lib->setCtrl(CTMeterCustom, reinterpret_cast<void*>(&OnMeter));
    lib->setCtrl(CTTraceLog, reinterpret_cast<void*>(&OnTrace));
    const char* text = lib->version();
    std::string version = text ? text : "";
    int ret = lib->init(config->params);
    if (ret) return Failed("wrapperInit", ret, *lib);
    return Outcome{std::nullopt, [version](Napi::Env env) -> Napi::Value { return Napi::String::New(env, version); }};
  });
}

Napi::Value Wrapper::Fini(const Napi::CallbackInfo& info) {
  return Run(workers_, info.Env(), "wrapperFini", [lib = lib_]() -> Outcome {
    int ret = lib->fini();
    return ret ? Failed("wrapperFini", ret, *lib) : Outcome{};
  });
}

Napi::Value Wrapper::Exec(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) return Rejected(env, Failure{"wrapperExec", 0, "the wrapper host is closed"});
  auto call = std::make_unique<ExecCall>(lib_);
  RequestFromJs(env, info[0], info[1], kTag | kParams | kItems, call->request);
  IdsFromJs(env, info[2], call->request);
  call->Begin(env);
  Napi::Promise promise = call->promise();
  if (workers_.Stage(static_cast<Job*>(call.release()))) queueMicrotask_.Call({flush_.Value()});
  return promise;
}

Napi::Value Wrapper::ExecAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto request = NewRequest(env, info[0], info[1], info[3], kTag | kParams | kItems);
  std::string tag = request->tag;
  int timeoutMs = info[2].ToNumber().Int32Value();

  Completion* completion = Completion::Start(env);
  Napi::Promise promise = completion->promise();
  auto call = std::make_shared<OnceCall>(this, tag, lib_, completion);
  if (!listeners::Add(tag, call)) {
    call->Fail(Failure{"wrapperExecAsync", 0, "usrTag '" + tag + "' is already used by a call in flight"});
    return promise;
  }
  bool queued = workers_.Run([lib = lib_, tag, request, timeoutMs, call] {
    int ret;
    try {
      ret = lib->execAsync(tag.c_str(), request->params, request->items, &OnResult, timeoutMs, request->ids, request->idCount);
    } catch (...) {
      call->Fail(Failure{"wrapperExecAsync", 0, "wrapperExecAsync threw a C++ exception"});
      return;
    }
    // Fail is a no-op if a callback already ended the call.
    if (ret) call->Fail(Failure{"wrapperExecAsync", ret, lib->ErrorText(ret)});
  });
  if (!queued) call->Fail(Failure{"wrapperExecAsync", 0, "the wrapper host is closed"});
  return promise;
}

Napi::Value Wrapper::Abandon(const Napi::CallbackInfo& info) {
  auto listener = listeners::Take(info[0].ToString().Utf8Value());
  if (listener) listener->Stop(info[1].ToString().Utf8Value());
  return Napi::Boolean::New(info.Env(), listener != nullptr);
}

Napi::Value Wrapper::Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto request = NewRequest(env, info[0], env.Undefined(), info[1], kTag | kParams);
  std::string tag = request->tag;
  std::shared_ptr<SessionStream> stream;
  if (info[2].IsFunction()) {
    stream = std::make_shared<SessionStream>(this, env, info[2].As<Napi::Function>(), lib_);
    // Registered before wrapperCreate: the plugin may call back before it returns.
    if (!listeners::Add(tag, stream)) {
      stream->Stop("");
      return Rejected(env, Failure{"wrapperCreate", 0, "usrTag '" + tag + "' is already used by a call in flight"});
    }
  }
  return Run(workers_, env, "wrapperCreate", [lib = lib_, sessions = sessions_, tag, request, stream]() -> Outcome {
    int errNum = 0;
    const void* handle = lib->create(tag.c_str(), request->params, stream ? &OnResult : nullptr, request->ids, request->idCount, &errNum);
    if (!handle || errNum) {
      if (stream) {
        listeners::Remove(tag, stream.get());
        stream->Stop("");
      }
      if (errNum) return Failed("wrapperCreate", errNum, *lib);
      return Outcome{Failure{"wrapperCreate", 0, "wrapperCreate returned no handle"}, {}};
    }
    auto session = std::make_shared<Session>();
    session->handle = handle;
    session->tag = tag;
    session->stream = stream;
    uint32_t id = sessions->Add(std::move(session));
    return Outcome{std::nullopt, [id](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, id); }};
  });
}

Napi::Value Wrapper::Write(const Napi::CallbackInfo& info) {
  uint32_t id = SessionId(info);
  Napi::Value none = info.Env().Undefined();
  auto request = NewRequest(info.Env(), info[1], info[2], none, kItems);
  return Run(workers_, info.Env(), "wrapperWrite", [lib = lib_, sessions = sessions_, id, request]() -> Outcome {
    auto session = sessions->Find(id);
    if (!session) return Unknown("wrapperWrite", id);
    std::lock_guard<std::mutex> lock(session->mutex);
    if (!session->open) return Unknown("wrapperWrite", id);
    int ret = lib->write(session->handle, request->items);
    return ret ? Failed("wrapperWrite", ret, *lib) : Outcome{};
  });
}

Napi::Value Wrapper::Read(const Napi::CallbackInfo& info) {
  uint32_t id = SessionId(info);
  return Run(workers_, info.Env(), "wrapperRead", [lib = lib_, sessions = sessions_, id]() -> Outcome {
    auto session = sessions->Find(id);
    if (!session) return Unknown("wrapperRead", id);
    std::lock_guard<std::mutex> lock(session->mutex);
    if (!session->open) return Unknown("wrapperRead", id);
    pDataList response = nullptr;
    int ret = lib->read(session->handle, &response);
    if (ret) return Failed("wrapperRead", ret, *lib);
    // The list stays the plugin's until wrapperDestroy: copy, never free.
    return ItemsOutcome(CopyList(response));
  });
}

Napi::Value Wrapper::Destroy(const Napi::CallbackInfo& info) {
  uint32_t id = SessionId(info);
  return Run(workers_, info.Env(), "wrapperDestroy", [lib = lib_, sessions = sessions_, id]() -> Outcome {
    auto session = sessions->Take(id);
    if (!session) return Unknown("wrapperDestroy", id);
    std::lock_guard<std::mutex> lock(session->mutex);
    session->open = false;
    int ret = lib->destroy(session->handle);
    // After wrapperDestroy, so that results it sends while closing still arrive.
    if (session->stream) {
      listeners::Remove(session->tag, session->stream.get());
      session->stream->Stop("");
    }
    return ret ? Failed("wrapperDestroy", ret, *lib) : Outcome{};
  });
}

Napi::Value Wrapper::DebugInfo(const Napi::CallbackInfo& info) {
  uint32_t id = SessionId(info);
  return Run(workers_, info.Env(), "wrapperDebugInfo", [lib = lib_, sessions = sessions_, id]() -> Outcome {
    auto session = sessions->Find(id);
    if (!session) return Unknown("wrapperDebugInfo", id);
    std::lock_guard<std::mutex> lock(session->mutex);
    if (!session->open) return Unknown("wrapperDebugInfo", id);
    const char* text = lib->debugInfo(session->handle);
    std::string copy = text ? text : "";
    return Outcome{std::nullopt, [copy](Napi::Env env) -> Napi::Value { return Napi::String::New(env, copy); }};
  });
}

Napi::Value Wrapper::LoadRes(const Napi::CallbackInfo& info) {
  unsigned int resId = info[0].ToNumber().Uint32Value();
  if (!info[2].IsBuffer()) throw Napi::TypeError::New(info.Env(), "loadRes(resId, key, data): data must be a Buffer");
  auto resource = std::make_shared<Request>();
  auto* item = resource->arena.Make<DataList>();
  std::string key = info[1].ToString().Utf8Value();
  item->key = resource->arena.Copy(key.data(), key.size());
  auto bytes = info[2].As<Napi::Buffer<char>>();
  item->data = bytes.Length() ? resource->arena.Copy(bytes.Data(), bytes.Length()) : nullptr;
  item->len = static_cast<unsigned int>(bytes.Length());
  item->type = DataPer;
  item->status = DataEnd;
  resource->items = item;
  return Run(workers_, info.Env(), "wrapperLoadRes", [lib = lib_, resource, resId]() -> Outcome {
    int ret = lib->loadRes(resource->items, resId);
    return ret ? Failed("wrapperLoadRes", ret, *lib) : Outcome{};
  });
}

Napi::Value Wrapper::UnloadRes(const Napi::CallbackInfo& info) {
  unsigned int resId = info[0].ToNumber().Uint32Value();
  return Run(workers_, info.Env(), "wrapperUnloadRes", [lib = lib_, resId]() -> Outcome {
    int ret = lib->unloadRes(resId);
    return ret ? Failed("wrapperUnloadRes", ret, *lib) : Outcome{};
  });
}

Napi::Value Wrapper::Close(const Napi::CallbackInfo& info) {
  closed_ = true;
  workers_.Stop();
  for (auto& listener : listeners::TakeAll(this)) listener->Stop("the wrapper host is closing");
  return info.Env().Undefined();
}

}  // namespace asf
