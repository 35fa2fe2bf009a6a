// Conversions between the JS shapes of the addon's API and the owned C++ mirrors.
#pragma once

#include <vector>

#include <napi.h>

#include "lists.h"

namespace asf {

// {key: value} with every value taken as a string.
Pairs PairsFromJs(Napi::Value value);
// [{key, data: Buffer, type, status, attrs}]
std::vector<Item> ItemsFromJs(Napi::Value value);
// [number] (personalisation resource ids); undefined is an empty list.
std::vector<unsigned int> IdsFromJs(Napi::Value value);
// The reverse of ItemsFromJs; the items' bytes move into the Buffers.
Napi::Array ItemsToJs(Napi::Env env, std::vector<Item>& items);

}  // namespace asf
