#include "lists.h"

#include <cstddef>
#include <stdexcept>

namespace asf {

static_assert(sizeof(ParamList) == 32, "ParamList layout must match AIGES (x86-64: 32 bytes)");
static_assert(sizeof(DataList) == 48, "DataList layout must match AIGES (x86-64: 48 bytes)");
static_assert(offsetof(DataList, type) == 20 && offsetof(DataList, status) == 24 && offsetof(DataList, desc) == 32,
              "DataList field offsets must match AIGES");

namespace {

// Far more items than any capability returns; past it the list is taken as corrupt.
constexpr size_t kMaxItems = 1 << 16;

}  // namespace

ParamChain::ParamChain(Pairs pairs) : pairs_(std::move(pairs)), nodes_(pairs_.size()) {
  for (size_t i = 0; i < pairs_.size(); ++i) {
    auto& [key, value] = pairs_[i];
    nodes_[i] = ParamList{key.data(), value.data(), static_cast<unsigned int>(value.size()),
                          i + 1 < nodes_.size() ? &nodes_[i + 1] : nullptr};
  }
}

DataChain::DataChain(std::vector<Item> items) : items_(std::move(items)), nodes_(items_.size()) {
  for (size_t i = 0; i < items_.size(); ++i) {
    Item& item = items_[i];
    descs_.push_back(std::make_unique<ParamChain>(item.desc));
    nodes_[i] = DataList{item.key.data(),
                         item.data.empty() ? nullptr : item.data.data(),
                         static_cast<unsigned int>(item.data.size()),
                         static_cast<DataType>(item.type),
                         static_cast<DataStatus>(item.status),
                         descs_.back()->head(),
                         i + 1 < nodes_.size() ? &nodes_[i + 1] : nullptr};
  }
}

std::vector<Item> CopyList(const DataList* list) {
  std::vector<Item> items;
  for (const DataList* node = list; node; node = node->next) {
    if (items.size() == kMaxItems) throw std::runtime_error("the wrapper returned a list of more than 65536 items (corrupt list?)");
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
      if (++descs > kMaxItems) throw std::runtime_error("the wrapper returned a desc list of more than 65536 entries (corrupt list?)");
      // strlen rather than vlen: vlen is often left unset in returned lists.
      item.desc.emplace_back(p->key ? p->key : "", p->value ? p->value : "");
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace asf
