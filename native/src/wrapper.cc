#include "wrapper.h"

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

// Runs `job` on a worker thread; the promise settles with its outcome. A C++ exception from the
// job (a copy that failed, or one a C++ plugin let escape) becomes a rejection naming `call`.
template <typename Job>
Napi::Value Run(Workers& workers, Napi::Env env, const char* call, Job job) {
  Completion* completion = Completion::Start(env);
  Napi::Promise promise = completion->promise();
  bool queued = workers.Run([completion, call, job = std::move(job)]() mutable {
    Outcome outcome;
    try {
      outcome = job();
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
}

Napi::Value Wrapper::Init(const Napi::CallbackInfo& info) {
  auto config = std::make_shared<ParamChain>(PairsFromJs(info[0]));
  return Run(workers_, info.Env(), "wrapperInit", [lib = lib_, config]() -> Outcome {
    // A plugin that does not take a control returns an error; the loader works without it.
    lib->setCtrl(CTMeterCustom, reinterpret_cast<void*>(&OnMeter));
    lib->setCtrl(CTTraceLog, reinterpret_cast<void*>(&OnTrace));
    const char* text = lib->version();
    std::string version = text ? text : "";
    int ret = lib->init(config->head());
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
  std::string tag = info[0].ToString().Utf8Value();
  auto params = std::make_shared<ParamChain>(PairsFromJs(info[1]));
  auto request = std::make_shared<DataChain>(ItemsFromJs(info[2]));
  auto ids = std::make_shared<std::vector<unsigned int>>(IdsFromJs(info[3]));
  return Run(workers_, info.Env(), "wrapperExec", [lib = lib_, tag, params, request, ids]() -> Outcome {
    pDataList response = nullptr;
    int ret = lib->exec(tag.c_str(), params->head(), request->head(), &response, ids->data(), static_cast<int>(ids->size()));
    std::vector<Item> items;
    std::string copyError;
    if (ret == 0) {
      try {
        items = CopyList(response);
      } catch (const std::exception& error) {
        copyError = error.what();
      }
    }
    // Whatever the plugin returned is its to free, and only after the copy above.
    if (response) lib->execFree(tag.c_str(), &response);
    if (ret) return Failed("wrapperExec", ret, *lib);
    if (!copyError.empty()) return Outcome{Failure{"wrapperExec", 0, copyError}, {}};
    return ItemsOutcome(std::move(items));
  });
}

Napi::Value Wrapper::ExecAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string tag = info[0].ToString().Utf8Value();
  auto params = std::make_shared<ParamChain>(PairsFromJs(info[1]));
  auto request = std::make_shared<DataChain>(ItemsFromJs(info[2]));
  int timeoutMs = info[3].ToNumber().Int32Value();
  auto ids = std::make_shared<std::vector<unsigned int>>(IdsFromJs(info[4]));

  Completion* completion = Completion::Start(env);
  Napi::Promise promise = completion->promise();
  auto call = std::make_shared<OnceCall>(this, tag, lib_, completion);
  if (!listeners::Add(tag, call)) {
    call->Fail(Failure{"wrapperExecAsync", 0, "usrTag '" + tag + "' is already used by a call in flight"});
    return promise;
  }
  bool queued = workers_.Run([lib = lib_, tag, params, request, ids, timeoutMs, call] {
    int ret;
    try {
      ret = lib->execAsync(tag.c_str(), params->head(), request->head(), &OnResult, timeoutMs, ids->data(),
                           static_cast<int>(ids->size()));
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
  std::string tag = info[0].ToString().Utf8Value();
  auto params = std::make_shared<ParamChain>(PairsFromJs(info[1]));
  auto ids = std::make_shared<std::vector<unsigned int>>(IdsFromJs(info[2]));
  std::shared_ptr<SessionStream> stream;
  if (info[3].IsFunction()) {
    stream = std::make_shared<SessionStream>(this, env, info[3].As<Napi::Function>(), lib_);
    // Registered before wrapperCreate: the plugin may call back before it returns.
    if (!listeners::Add(tag, stream)) {
      stream->Stop("");
      return Rejected(env, Failure{"wrapperCreate", 0, "usrTag '" + tag + "' is already used by a call in flight"});
    }
  }
  return Run(workers_, env, "wrapperCreate", [lib = lib_, sessions = sessions_, tag, params, ids, stream]() -> Outcome {
    int errNum = 0;
    const void* handle = lib->create(tag.c_str(), params->head(), stream ? &OnResult : nullptr, ids->data(),
                                     static_cast<int>(ids->size()), &errNum);
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
  auto request = std::make_shared<DataChain>(ItemsFromJs(info[1]));
  return Run(workers_, info.Env(), "wrapperWrite", [lib = lib_, sessions = sessions_, id, request]() -> Outcome {
    auto session = sessions->Find(id);
    if (!session) return Unknown("wrapperWrite", id);
    std::lock_guard<std::mutex> lock(session->mutex);
    if (!session->open) return Unknown("wrapperWrite", id);
    int ret = lib->write(session->handle, request->head());
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
  Item item;
  item.key = info[1].ToString().Utf8Value();
  if (!info[2].IsBuffer()) throw Napi::TypeError::New(info.Env(), "loadRes(resId, key, data): data must be a Buffer");
  auto bytes = info[2].As<Napi::Buffer<char>>();
  item.data.assign(bytes.Data(), bytes.Data() + bytes.Length());
  item.type = DataPer;
  item.status = DataEnd;
  std::vector<Item> items;
  items.push_back(std::move(item));
  auto resource = std::make_shared<DataChain>(std::move(items));
  return Run(workers_, info.Env(), "wrapperLoadRes", [lib = lib_, resource, resId]() -> Outcome {
    int ret = lib->loadRes(resource->head(), resId);
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
  workers_.Stop();
  for (auto& listener : listeners::TakeAll(this)) listener->Stop("the wrapper host is closing");
  return info.Env().Undefined();
}

}  // namespace asf
