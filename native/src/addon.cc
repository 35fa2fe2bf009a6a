// asf_native: the bridge between the loader and a C/C++ capability (libwrapper.so).
#include <napi.h>

#include "completion.h"
#include "controls.h"
#include "library.h"
#include "workers.h"
#include "wrapper.h"

namespace asf {
namespace {

// dlopen runs the library's constructors, which may take long (a CUDA runtime loading): off the JS thread too.
Workers openers;

// open(path) → library handle for `new Wrapper(handle)`; rejects naming any missing symbol.
Napi::Value Open(const Napi::CallbackInfo& info) {
  std::string path = info[0].ToString().Utf8Value();
  Completion* completion = Completion::Start(info.Env());
  Napi::Promise promise = completion->promise();
  openers.Run([completion, path] {
    Outcome outcome;
    try {
      std::shared_ptr<const Library> lib = Library::Open(path);
      outcome.value = [lib](Napi::Env env) { return NewLibraryHandle(env, lib); };
    } catch (const std::exception& error) {
      outcome.failure = Failure{"dlopen", 0, error.what()};
    }
    completion->Settle(std::move(outcome));
  });
  return promise;
}

// meters() → {meterKey: total} reported by plugins through the CTMeterCustom callback.
Napi::Value Meters(const Napi::CallbackInfo& info) {
  Napi::Object totals = Napi::Object::New(info.Env());
  for (const auto& [key, count] : MeterTotals()) totals.Set(key, static_cast<double>(count));
  return totals;
}

}  // namespace
}  // namespace asf

// NODE_API_MODULE wants an unqualified name.
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  asf::Pending::Setup(env);
  exports.Set("open", Napi::Function::New(env, asf::Open, "open"));
  exports.Set("meters", Napi::Function::New(env, asf::Meters, "meters"));
  exports.Set("Wrapper", asf::Wrapper::Define(env));
  return exports;
}

NODE_API_MODULE(asf_native, InitAddon)
