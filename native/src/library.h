// A plugin library (libwrapper.so) opened once, with every symbol of the ABI resolved.
#pragma once

#include <memory>
#include <string>

#include "aiges_wrapper.h"

namespace asf {

struct Library {
  std::string path;
  decltype(&wrapperSetCtrl) setCtrl;
  decltype(&wrapperInit) init;
  decltype(&wrapperFini) fini;
  decltype(&wrapperError) error;
  decltype(&wrapperVersion) version;
  decltype(&wrapperLoadRes) loadRes;
  decltype(&wrapperUnloadRes) unloadRes;
  decltype(&wrapperCreate) create;
  decltype(&wrapperWrite) write;
  decltype(&wrapperRead) read;
  decltype(&wrapperDestroy) destroy;
  decltype(&wrapperExec) exec;
  decltype(&wrapperExecFree) execFree;
  decltype(&wrapperExecAsync) execAsync;
  decltype(&wrapperDebugInfo) debugInfo;

  // dlopen(RTLD_NOW | RTLD_LOCAL) and dlsym of all 15 functions. Throws std::runtime_error naming
  // what is missing. The library is never closed: plugin threads may outlive wrapperFini.
  static std::shared_ptr<const Library> Open(const std::string& path);

  // wrapperError(code), or a stand-in when the plugin has no text for it.
  std::string ErrorText(int code) const;
};

}  // namespace asf
