#include "library.h"

#include <dlfcn.h>

#include <stdexcept>
#include <type_traits>
#include <vector>

namespace asf {

std::shared_ptr<const Library> Library::Open(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw std::runtime_error("cannot load " + path + ": " + (why ? why : "unknown dlopen error"));
  }
  auto lib = std::make_shared<Library>();
  lib->path = path;
  std::vector<std::string> missing;
  auto resolve = [&](auto& field, const char* name) {
    void* symbol = dlsym(handle, name);
    if (!symbol) missing.emplace_back(name);
    field = reinterpret_cast<std::remove_reference_t<decltype(field)>>(symbol);
  };
  resolve(lib->setCtrl, "wrapperSetCtrl");
  resolve(lib->init, "wrapperInit");
  resolve(lib->fini, "wrapperFini");
  resolve(lib->error, "wrapperError");
  resolve(lib->version, "wrapperVersion");
  resolve(lib->loadRes, "wrapperLoadRes");
  resolve(lib->unloadRes, "wrapperUnloadRes");
  resolve(lib->create, "wrapperCreate");
  resolve(lib->write, "wrapperWrite");
  resolve(lib->read, "wrapperRead");
  resolve(lib->destroy, "wrapperDestroy");
  resolve(lib->exec, "wrapperExec");
  resolve(lib->execFree, "wrapperExecFree");
  resolve(lib->execAsync, "wrapperExecAsync");
  resolve(lib->debugInfo, "wrapperDebugInfo");
  if (!missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += (names.empty() ? "" : ", ") + name;
    dlclose(handle);
    throw std::runtime_error(path + " does not export " + names);
  }
  return lib;
}

std::string Library::ErrorText(int code) const {
  const char* text = error(code);
  if (text && *text) return text;
  return "wrapper error " + std::to_string(code);
}

}  // namespace asf
