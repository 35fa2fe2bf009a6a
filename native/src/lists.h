// The ABI's linked lists as the bridge builds and copies them.
#pragma once

#include <cstddef>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "aiges_wrapper.h"

namespace asf {

// A bump allocator for one call's lists, freed all at once. Its first block lives inside it, so a
// typical call (its request and the copy of its answer) costs no allocation beyond its owner.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();

  void* Allocate(size_t size, size_t align);
  template <typename T>
  T* Make() {
    static_assert(std::is_trivially_destructible_v<T>, "the arena never runs destructors");
    return new (Allocate(sizeof(T), alignof(T))) T();
  }
  // A NUL-terminated copy.
  char* Copy(const void* bytes, size_t size);
  // Bytes as big as kOwnBlock or bigger are copied into a block of their own, which Detach hands
  // over (to a JS Buffer, which frees it with std::free): big answers are copied once, not twice.
  static constexpr size_t kOwnBlock = 64 * 1024;
  void* Detach(const void* bytes);

  // Room left in the current block, to write a string of unknown length in place, then Commit.
  char* cursor() const { return cursor_; }
  size_t room() const { return static_cast<size_t>(end_ - cursor_); }
  void Commit(size_t size) { cursor_ += size; }

 private:
  // Enough for a typical one-shot call, and small enough that ExecCall stays within glibc's
  // per-thread cache of small blocks (1 KiB).
  static constexpr size_t kInline = 704;
  static constexpr size_t kBlock = 4096;
  struct Block {
    Block* next;
    bool own;  // holds one big allocation
  };

  alignas(std::max_align_t) char inline_[kInline];
  char* cursor_ = inline_;
  char* end_ = inline_ + kInline;
  Block* blocks_ = nullptr;
};

// The arguments of one plugin call, in their own arena.
struct Request {
  Arena arena;
  const char* tag = "";
  pParamList params = nullptr;
  pDataList items = nullptr;
  unsigned int* ids = nullptr;
  int idCount = 0;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One output item, owning its bytes: for answers that are joined or kept past their call.
struct Item {
  std::string key;
  std::vector<char> data;
  int type = DataText;
  int status = DataOnce;
  Pairs desc;
};

// Copies a plugin's list before the plugin may free it. Both throw std::runtime_error on a list too
// long to be anything but corrupt (a cycle would otherwise never end).
std::vector<Item> CopyList(const DataList* list);
pDataList CopyList(const DataList* list, Arena& arena);

}  // namespace asf
