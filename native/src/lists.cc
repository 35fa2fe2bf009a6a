#include "lists.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace asf {

static_assert(sizeof(ParamList) == 32, "ParamList layout must match AIGES (x86-64: 32 bytes)");
static_assert(sizeof(DataList) == 48, "DataList layout must match AIGES (x86-64: 48 bytes)");
static_assert(offsetof(DataList, type) == 20 && offsetof(DataList, status) == 24 && offsetof(DataList, desc) == 32,
              "DataList field offsets must match AIGES");

namespace {

// Far more items than any capability returns; past it the list is taken as corrupt.
constexpr size_t kMaxItems = 1 << 16;

void CheckLength(size_t& count, const char* what) {
  if (++count > kMaxItems) throw std::runtime_error(std::string("the wrapper returned a ") + what + " of more than 65536 entries (corrupt list?)");
}

}  // namespace

Arena::~Arena() {
  while (blocks_) {
    Block* next = blocks_->next;
    std::free(blocks_);
    blocks_ = next;
  }
}

void* Arena::Allocate(size_t size, size_t align) {
  auto aligned = [align](char* at) { return reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(at) + align - 1) & ~(align - 1)); };
  char* at = aligned(cursor_);
  if (at + size <= end_) {
    cursor_ = at + size;
    return at;
  }
  // A big allocation gets a block of its own and leaves the current block current; small ones
  // share a new standard block.
  bool own = size >= kOwnBlock;
  size_t bytes = sizeof(Block) + align + size;
  if (!own && bytes < kBlock) bytes = kBlock;
  auto* block = static_cast<Block*>(std::malloc(bytes));
  if (!block) throw std::bad_alloc();
  *block = Block{blocks_, own};
  blocks_ = block;
  at = aligned(reinterpret_cast<char*>(block + 1));
  if (!own) {
    cursor_ = at + size;
    end_ = reinterpret_cast<char*>(block) + bytes;
  }
  return at;
}

void* Arena::Detach(const void* bytes) {
  for (Block** link = &blocks_; *link; link = &(*link)->next) {
    Block* block = *link;
    if (!block->own || bytes < block + 1 || bytes > reinterpret_cast<char*>(block + 1) + alignof(std::max_align_t)) continue;
    *link = block->next;
    return block;
  }
  return nullptr;
}

char* Arena::Copy(const void* bytes, size_t size) {
  auto* out = static_cast<char*>(Allocate(size + 1, 1));
  if (size) std::memcpy(out, bytes, size);
  out[size] = '\0';
  return out;
}

std::vector<Item> CopyList(const DataList* list) {
  std::vector<Item> items;
  size_t count = 0;
  for (const DataList* node = list; node; node = node->next) {
    CheckLength(count, "list");
    Item item;
    item.key = node->key ? node->key : "";
    if (node->data && node->len) {
      const char* bytes = static_cast<const char*>(node->data);
      item.data.assign(bytes, bytes + node->len);
    }
    item.type = node->type;
    item.status = node->status;
    size_t descs = 0;
    for (const ParamList* p = node->desc; p; p = p->next) {
      CheckLength(descs, "desc list");
      // strlen rather than vlen: vlen is often left unset in returned lists.
      item.desc.emplace_back(p->key ? p->key : "", p->value ? p->value : "");
    }
    items.push_back(std::move(item));
  }
  return items;
}

pDataList CopyList(const DataList* list, Arena& arena) {
  pDataList head = nullptr;
  pDataList* tail = &head;
  size_t count = 0;
  for (const DataList* node = list; node; node = node->next) {
    CheckLength(count, "list");
    auto* copy = arena.Make<DataList>();
    copy->key = arena.Copy(node->key ? node->key : "", node->key ? std::strlen(node->key) : 0);
    bool bytes = node->data && node->len;
    copy->data = bytes ? arena.Copy(node->data, node->len) : nullptr;
    copy->len = bytes ? node->len : 0;
    copy->type = node->type;
    copy->status = node->status;
    pParamList* descTail = &copy->desc;
    size_t descs = 0;
    for (const ParamList* p = node->desc; p; p = p->next) {
      CheckLength(descs, "desc list");
      auto* pair = arena.Make<ParamList>();
      pair->key = arena.Copy(p->key ? p->key : "", p->key ? std::strlen(p->key) : 0);
      // strlen rather than vlen: vlen is often left unset in returned lists.
      size_t vlen = p->value ? std::strlen(p->value) : 0;
      pair->value = arena.Copy(p->value ? p->value : "", vlen);
      pair->vlen = static_cast<unsigned int>(vlen);
      *descTail = pair;
      descTail = &pair->next;
    }
    *tail = copy;
    tail = &copy->next;
  }
  return head;
}

}  // namespace asf
