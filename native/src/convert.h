// Conversions between the addon's JS arguments and answers (runtime/loader/hosts/native.ts packs
// and unpacks them) and the ABI's lists. Everything but the bytes travels as one packed string each
// way: a call costs a few N-API calls, not one per key, value and property lookup.
//
// In: a string of fields in a row, each a text `${text.length}:${text}` (length in UTF-16 code
// units, as JS counts them, so any text fits) or a number `${n},`. What it holds, in this order:
//   the tag; the params: their count, then key, value, ...; the items to the end: key, type,
//   status, attrCount, attribute keys and values. The items' bytes come beside it, as an array of
//   Buffers, one per item. A request with a tag and params passes the plugin the params and sid =
//   the tag (the ABI's params always carry the sid).
// Out: the head, as a latin1 string (a byte per character) up to 4 KiB, else an ArrayBuffer:
//   int32 little-endian item count and meta length; per item int32 type, status, size and
//   attrCount; the meta (UTF-8): each item's key, attribute keys and values, every one ended by a
//   NUL (plugin strings are C strings: none holds a NUL); then the items' bytes one after the other.
//   Items of Arena::kOwnBlock bytes or more are not copied again but handed over as ArrayBuffers of
//   their own: then the answer is [head, big, ...] and their size in the head is -1.
#pragma once

#include <vector>

#include <napi.h>

#include "lists.h"

namespace asf {

// Which parts a packed request holds.
enum Holds : unsigned { kTag = 1, kParams = 2, kItems = 4 };

// Reads a packed request and its items' Buffers (`data`) into `request`, copying the bytes.
void RequestFromJs(Napi::Env env, Napi::Value packed, Napi::Value data, unsigned holds, Request& request);
// [number] (personalisation resource ids); undefined is an empty list.
void IdsFromJs(Napi::Env env, Napi::Value ids, Request& request);

// Answers; big items' bytes are handed over, not copied: the owned items' vectors, and the arena's
// blocks of a list copied into it (see Arena::Detach).
Napi::Value ItemsToJs(Napi::Env env, std::vector<Item>& items);
Napi::Value ItemsToJs(Napi::Env env, const DataList* list, Arena& arena);

}  // namespace asf
