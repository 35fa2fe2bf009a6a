#include "convert.h"

namespace asf {

Pairs PairsFromJs(Napi::Value value) {
  Pairs pairs;
  if (value.IsUndefined() || value.IsNull()) return pairs;
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    Napi::Value key = keys.Get(i);
    pairs.emplace_back(key.ToString().Utf8Value(), object.Get(key).ToString().Utf8Value());
  }
  return pairs;
}

std::vector<Item> ItemsFromJs(Napi::Value value) {
  Napi::Array array = value.As<Napi::Array>();
  std::vector<Item> items(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Object object = array.Get(i).As<Napi::Object>();
    Item& item = items[i];
    item.key = object.Get("key").ToString().Utf8Value();
    Napi::Value data = object.Get("data");
    if (!data.IsBuffer()) throw Napi::TypeError::New(value.Env(), "item '" + item.key + "' has no Buffer data");
    Napi::Buffer<char> bytes = data.As<Napi::Buffer<char>>();
    item.data.assign(bytes.Data(), bytes.Data() + bytes.Length());
    item.type = object.Get("type").ToNumber().Int32Value();
    item.status = object.Get("status").ToNumber().Int32Value();
    item.desc = PairsFromJs(object.Get("attrs"));
  }
  return items;
}

std::vector<unsigned int> IdsFromJs(Napi::Value value) {
  std::vector<unsigned int> ids;
  if (value.IsUndefined() || value.IsNull()) return ids;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) ids.push_back(array.Get(i).ToNumber().Uint32Value());
  return ids;
}

Napi::Array ItemsToJs(Napi::Env env, std::vector<Item>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    Item& item = items[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("key", item.key);
    Napi::Buffer<char> data;
    if (item.data.empty()) {
      data = Napi::Buffer<char>::New(env, 0);
    } else {
      // Hand the bytes to the Buffer without a second copy; the finalizer frees them.
      auto* owned = new std::vector<char>(std::move(item.data));
      data = Napi::Buffer<char>::NewOrCopy(env, owned->data(), owned->size(),
                                          [](Napi::Env, char*, std::vector<char>* bytes) { delete bytes; }, owned);
    }
    object.Set("data", data);
    object.Set("type", item.type);
    object.Set("status", item.status);
    Napi::Object attrs = Napi::Object::New(env);
    for (const auto& [key, value] : item.desc) attrs.Set(key, value);
    object.Set("attrs", attrs);
    array.Set(static_cast<uint32_t>(i), object);
  }
  return array;
}

}  // namespace asf
