#include "convert.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace asf {

namespace {

void Check(napi_env env, napi_status status) {
  if (status != napi_ok) throw Napi::Error::New(env);
}

napi_value Coerced(napi_env env, napi_value value) {
  napi_valuetype type;
  Check(env, napi_typeof(env, value, &type));
  if (type == napi_string) return value;
  napi_value text;
  Check(env, napi_coerce_to_string(env, value, &text));
  return text;
}

// A JS string's UTF-16 code units, in a buffer reused by every call on this (the JS) thread.
std::u16string_view Units(napi_env env, napi_value value) {
  thread_local std::u16string scratch(256, u'\0');
  value = Coerced(env, value);
  size_t length = 0;
  Check(env, napi_get_value_string_utf16(env, value, scratch.data(), scratch.size(), &length));
  if (length + 1 >= scratch.size()) {  // perhaps cut short: ask for the length, then copy all
    Check(env, napi_get_value_string_utf16(env, value, nullptr, 0, &length));
    scratch.resize(length + 1);
    Check(env, napi_get_value_string_utf16(env, value, scratch.data(), scratch.size(), &length));
  }
  return {scratch.data(), length};
}

bool IsHigh(char16_t unit) { return unit >= 0xD800 && unit <= 0xDBFF; }
bool IsLow(char16_t unit) { return unit >= 0xDC00 && unit <= 0xDFFF; }

// UTF-16 to NUL-terminated UTF-8 in the arena. A lone surrogate becomes U+FFFD, as V8 writes it.
char* Utf8(std::u16string_view text, Arena& arena, size_t* length) {
  size_t size = 0;
  bool ascii = true;
  for (size_t i = 0; i < text.size(); ++i) {
    char16_t unit = text[i];
    ascii = ascii && unit < 0x80;
    if (unit < 0x80) size += 1;
    else if (unit < 0x800) size += 2;
    else if (IsHigh(unit) && i + 1 < text.size() && IsLow(text[i + 1])) size += 4, ++i;
    else size += 3;
  }
  auto* out = static_cast<char*>(arena.Allocate(size + 1, 1));
  if (length) *length = size;
  out[size] = '\0';
  if (ascii) {  // the usual case: keys, params, attributes
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(text[i]);
    return out;
  }
  char* at = out;
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t code = text[i];
    if (IsHigh(text[i]) && i + 1 < text.size() && IsLow(text[i + 1])) {
      code = 0x10000 + ((code - 0xD800) << 10) + (text[++i] - 0xDC00);
    } else if (IsHigh(text[i]) || IsLow(text[i])) {
      code = 0xFFFD;
    }
    if (code < 0x80) {
      *at++ = static_cast<char>(code);
    } else if (code < 0x800) {
      *at++ = static_cast<char>(0xC0 | (code >> 6));
      *at++ = static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      *at++ = static_cast<char>(0xE0 | (code >> 12));
      *at++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *at++ = static_cast<char>(0x80 | (code & 0x3F));
    } else {
      *at++ = static_cast<char>(0xF0 | (code >> 18));
      *at++ = static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      *at++ = static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      *at++ = static_cast<char>(0x80 | (code & 0x3F));
    }
  }
  return out;
}

// Reads the fields of a packed string (see convert.h).
class Fields {
 public:
  Fields(napi_env env, napi_value packed) : env_(env), text_(Units(env, packed)) {}

  bool done() const { return at_ >= text_.size(); }

  char* String(Arena& arena, size_t* length = nullptr) {
    size_t size = Number(u':');
    if (size > text_.size() - at_) Malformed();
    char* out = Utf8(text_.substr(at_, size), arena, length);
    at_ += size;
    return out;
  }

  int Int() {
    bool negative = at_ < text_.size() && text_[at_] == u'-';
    at_ += negative;
    auto value = static_cast<int>(Number(u','));
    return negative ? -value : value;
  }

 private:
  size_t Number(char16_t end) {
    size_t value = 0;
    size_t digits = 0;
    for (; at_ < text_.size() && text_[at_] >= u'0' && text_[at_] <= u'9'; ++at_, ++digits) value = value * 10 + (text_[at_] - u'0');
    if (digits == 0 || digits > 9 || at_ >= text_.size() || text_[at_] != end) Malformed();
    ++at_;
    return value;
  }

  [[noreturn]] void Malformed() const { throw Napi::TypeError::New(env_, "the wrapper bridge was given a malformed packed string"); }

  napi_env env_;
  std::u16string_view text_;
  size_t at_ = 0;
};

pParamList ReadPair(Fields& fields, Arena& arena) {
  auto* pair = arena.Make<ParamList>();
  pair->key = fields.String(arena);
  size_t vlen = 0;
  pair->value = fields.String(arena, &vlen);
  pair->vlen = static_cast<unsigned int>(vlen);
  return pair;
}

bool Absent(napi_value value, napi_env env) {
  napi_valuetype type;
  Check(env, napi_typeof(env, value, &type));
  return type == napi_undefined || type == napi_null;
}

// Builds an answer (see convert.h) in two steps: Add every item, then Finish.
class Answer {
 public:
  Answer() {
    meta().clear();
    pieces().clear();
  }

  // `owner` or `arena` gives the bytes up if they are big.
  void Add(const char* key, int type, int status, const void* bytes, size_t size, size_t attrs, Item* owner, Arena* arena) {
    Field(key);
    pieces().push_back(Piece{bytes, size, size >= Arena::kOwnBlock, type, status, static_cast<int32_t>(attrs), owner, arena});
  }
  void Attr(const char* key, const char* value) {
    Field(key);
    Field(value);
  }

  napi_value Finish(napi_env env) {
    const std::string& text = meta();
    std::vector<Piece>& list = pieces();
    size_t inlineBytes = 0;
    size_t big = 0;
    for (const Piece& piece : list) {
      if (piece.big) big++;
      else inlineBytes += piece.size;
    }
    size_t size = 8 + 16 * list.size() + text.size() + inlineBytes;
    napi_value head;
    char* start = nullptr;
    if (size <= kStringHead) {
      start = Staging(size);
    } else {
      void* out = nullptr;
      Check(env, napi_create_arraybuffer(env, size, &out, &head));
      start = static_cast<char*>(out);
    }
    char* at = start;
    auto put = [&at](int32_t value) {
      for (int i = 0; i < 4; ++i) *at++ = static_cast<char>(static_cast<uint32_t>(value) >> (8 * i));
    };
    put(static_cast<int32_t>(list.size()));
    put(static_cast<int32_t>(text.size()));
    for (const Piece& piece : list) {
      put(piece.type);
      put(piece.status);
      put(piece.big ? -1 : static_cast<int32_t>(piece.size));
      put(piece.attrs);
    }
    std::memcpy(at, text.data(), text.size());
    at += text.size();
    for (const Piece& piece : list) {
      if (piece.big || piece.size == 0) continue;
      std::memcpy(at, piece.bytes, piece.size);
      at += piece.size;
    }
    if (size <= kStringHead) Check(env, napi_create_string_latin1(env, start, size, &head));
    if (big == 0) return head;
    napi_value answer;
    Check(env, napi_create_array_with_length(env, big + 1, &answer));
    Check(env, napi_set_element(env, answer, 0, head));
    uint32_t index = 0;
    for (Piece& piece : list) {
      if (piece.big) Check(env, napi_set_element(env, answer, ++index, HandOver(env, piece)));
    }
    return answer;
  }

 private:
  struct Piece {
    const void* bytes;
    size_t size;
    bool big;
    int32_t type;
    int32_t status;
    int32_t attrs;
    Item* owner;
    Arena* arena;
  };

  // Up to this size the head is a latin1 string (a byte per character): a V8 heap string is far
  // cheaper to make than an ArrayBuffer, and JS copies it into Buffer's pool.
  static constexpr size_t kStringHead = 4096;

  // Reused by every answer on this (the JS) thread.
  static char* Staging(size_t size) {
    thread_local std::string bytes;
    bytes.resize(size);
    return bytes.data();
  }
  static std::string& meta() {
    thread_local std::string text;
    return text;
  }
  static std::vector<Piece>& pieces() {
    thread_local std::vector<Piece> list;
    return list;
  }

  void Field(const char* text) { meta().append(text).push_back('\0'); }

  // An external ArrayBuffer over the bytes, freed when JS is done with them; a copy where
  // external buffers are not allowed.
  static napi_value HandOver(napi_env env, Piece& piece) {
    void* bytes = const_cast<void*>(piece.bytes);
    void* hint = nullptr;
    napi_finalize release = nullptr;
    if (piece.owner) {
      hint = new std::vector<char>(std::move(piece.owner->data));
      release = [](napi_env, void*, void* kept) { delete static_cast<std::vector<char>*>(kept); };
    } else {
      hint = piece.arena->Detach(piece.bytes);
      release = [](napi_env, void*, void* block) { std::free(block); };
    }
    napi_value buffer;
    napi_status status = hint ? napi_create_external_arraybuffer(env, bytes, piece.size, release, hint, &buffer) : napi_no_external_buffers_allowed;
    if (status == napi_ok) return buffer;
    if (status != napi_no_external_buffers_allowed) Check(env, status);
    void* copy = nullptr;
    Check(env, napi_create_arraybuffer(env, piece.size, &copy, &buffer));
    std::memcpy(copy, bytes, piece.size);
    if (hint) release(env, bytes, hint);
    return buffer;
  }
};

pDataList ReadItems(napi_env env, Fields& fields, napi_value data, Arena& arena) {
  uint32_t buffers = 0;
  if (napi_get_array_length(env, data, &buffers) != napi_ok) throw Napi::TypeError::New(env, "items' data must be an array of Buffers");
  pDataList head = nullptr;
  pDataList* tail = &head;
  for (uint32_t i = 0; !fields.done(); ++i) {
    auto* item = arena.Make<DataList>();
    item->key = fields.String(arena);
    item->type = static_cast<DataType>(fields.Int());
    item->status = static_cast<DataStatus>(fields.Int());
    pParamList* descTail = &item->desc;
    for (int attrs = fields.Int(); attrs > 0; --attrs, descTail = &(*descTail)->next) *descTail = ReadPair(fields, arena);
    napi_value buffer = nullptr;
    void* bytes = nullptr;
    size_t size = 0;
    if (i >= buffers || napi_get_element(env, data, i, &buffer) != napi_ok || napi_get_buffer_info(env, buffer, &bytes, &size) != napi_ok) {
      throw Napi::TypeError::New(env, std::string("item '") + item->key + "' has no Buffer data");
    }
    item->data = size ? arena.Copy(bytes, size) : nullptr;
    item->len = static_cast<unsigned int>(size);
    *tail = item;
    tail = &item->next;
  }
  return head;
}

}  // namespace

void RequestFromJs(Napi::Env env, Napi::Value packed, Napi::Value data, unsigned holds, Request& request) {
  Fields fields(env, packed);
  Arena& arena = request.arena;
  if (holds & kTag) request.tag = fields.String(arena);
  if (holds & kParams) {
    pParamList* tail = &request.params;
    for (int count = fields.Int(); count > 0; --count, tail = &(*tail)->next) *tail = ReadPair(fields, arena);
    if (holds & kTag) {
      static char sid[] = "sid";
      auto* pair = arena.Make<ParamList>();
      *pair = ParamList{sid, const_cast<char*>(request.tag), static_cast<unsigned int>(std::strlen(request.tag)), nullptr};
      *tail = pair;
    }
  }
  if (holds & kItems) request.items = ReadItems(env, fields, data, arena);
  if (!fields.done()) throw Napi::TypeError::New(env, "the wrapper bridge was given a packed request with more in it than expected");
}

void IdsFromJs(Napi::Env env, Napi::Value ids, Request& request) {
  if (Absent(ids, env)) return;
  Napi::Array array = ids.As<Napi::Array>();
  uint32_t count = array.Length();
  if (count == 0) return;
  request.ids = static_cast<unsigned int*>(request.arena.Allocate(count * sizeof(unsigned int), alignof(unsigned int)));
  for (uint32_t i = 0; i < count; ++i) request.ids[i] = array.Get(i).ToNumber().Uint32Value();
  request.idCount = static_cast<int>(count);
}

Napi::Value ItemsToJs(Napi::Env env, std::vector<Item>& items) {
  Answer answer;
  for (Item& item : items) {
    answer.Add(item.key.c_str(), item.type, item.status, item.data.data(), item.data.size(), item.desc.size(), &item, nullptr);
    for (const auto& [key, value] : item.desc) answer.Attr(key.c_str(), value.c_str());
  }
  return Napi::Value(env, answer.Finish(env));
}

Napi::Value ItemsToJs(Napi::Env env, const DataList* list, Arena& arena) {
  Answer answer;
  for (const DataList* node = list; node; node = node->next) {
    size_t attrs = 0;
    for (const ParamList* p = node->desc; p; p = p->next) attrs++;
    answer.Add(node->key, node->type, node->status, node->data, node->len, attrs, nullptr, &arena);
    for (const ParamList* p = node->desc; p; p = p->next) answer.Attr(p->key, p->value);
  }
  return Napi::Value(env, answer.Finish(env));
}

}  // namespace asf
