// Owned mirrors of the ABI's linked lists: what the loader passes in, and copies of what plugins return.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aiges_wrapper.h"

namespace asf {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// One input or output item, owning its bytes.
struct Item {
  std::string key;
  std::vector<char> data;
  int type = DataText;
  int status = DataOnce;
  Pairs desc;
};

// A ParamList over strings this object owns. Not movable: the nodes point into it.
class ParamChain {
 public:
  explicit ParamChain(Pairs pairs);
  ParamChain(const ParamChain&) = delete;
  ParamChain& operator=(const ParamChain&) = delete;

  pParamList head() { return nodes_.empty() ? nullptr : nodes_.data(); }

 private:
  Pairs pairs_;
  std::vector<ParamList> nodes_;
};

// A DataList over items this object owns. Not movable: the nodes point into it.
class DataChain {
 public:
  explicit DataChain(std::vector<Item> items);
  DataChain(const DataChain&) = delete;
  DataChain& operator=(const DataChain&) = delete;

  pDataList head() { return nodes_.empty() ? nullptr : nodes_.data(); }

 private:
  std::vector<Item> items_;
  std::vector<std::unique_ptr<ParamChain>> descs_;
  std::vector<DataList> nodes_;
};

// Copies a plugin's list before the plugin may free it. Throws std::runtime_error on a list
// too long to be anything but corrupt (a cycle would otherwise never end).
std::vector<Item> CopyList(const DataList* list);

}  // namespace asf
