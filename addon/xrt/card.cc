#include "card.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "common/error.h"
#include "xclbin_check.h"

namespace inaccel {
namespace xrt_plugin {
namespace {

// An empty buffer (a length of 0: the kernel touches none of it) moves
// nothing either way; it is still bound, to a pooled BO of this size, as XRT
// makes none of 0 bytes.
constexpr size_t kEmptyBytes = 4096;

bool toDevice(const Arg& arg) { return arg.access != Access::Write && arg.bytes > 0; }
bool fromDevice(const Arg& arg) { return arg.access != Access::Read && arg.bytes > 0; }

// True when a buffer of `a` and one of `b` share bytes and either writes them.
bool hazard(const std::vector<Arg>& a, const std::vector<Arg>& b) {
  for (const Arg& x : a) {
    if (x.kind != Arg::Kind::Buffer) continue;
    const auto* xs = static_cast<const char*>(x.host);
    for (const Arg& y : b) {
      if (y.kind != Arg::Kind::Buffer || (!fromDevice(x) && !fromDevice(y))) continue;
      const auto* ys = static_cast<const char*>(y.host);
      if (xs < ys + y.bytes && ys < xs + x.bytes) return true;
    }
  }
  return false;
}

}  // namespace

void Card::configure(const Bitstream& bitstream) {
  if (loaded_ && loaded_->id == bitstream.id) return;
  if (bitstream.format != "binary") {
    throw Error("BITSTREAM_INVALID", bitstream.id + ": the XRT backend loads xclbin binaries, not '" +
                                         bitstream.format + "' bitstreams");
  }
  const auto image = readXclbin(bitstream.path);  // bounds-checked before XRT parses it
  xrt::xclbin xclbin;
  try {
    xclbin = xrt::xclbin(image);
    xclbin.get_kernels();  // XRT parses the metadata lazily: make it fail here
  } catch (const std::exception& e) {
    throw Error("BITSTREAM_INVALID", bitstream.path + ": XRT refused the xclbin: " + e.what());
  }
  unconfigure();
  try {
    xrt::device device(index_);
    device.load_xclbin(xclbin);
    loaded_ = std::make_unique<Loaded>(std::move(device), std::move(xclbin), bitstream.id);
  } catch (const std::exception& e) {
    throw Error("DEVICE_ERROR", info_.name + ": loading " + bitstream.path + " failed: " + e.what());
  }
}

void Card::unconfigure() { loaded_.reset(); }

xrt::kernel& Card::kernel(const std::string& name) {
  auto it = loaded_->kernels.find(name);
  if (it == loaded_->kernels.end()) {
    it = loaded_->kernels.emplace(name, xrt::kernel(loaded_->device, loaded_->xclbin.get_uuid(), name)).first;
  }
  return it->second;
}

// The xclbin's connectivity decides (XRT's group id) unless the bitstream
// metadata names a bank, which must then be one the argument is wired to.
int Card::bankOf(const xrt::kernel& k, const xrt::xclbin::arg& meta, int index, const Arg& arg) const {
  const auto mems = meta.get_mems();
  if (mems.empty()) {
    throw Error("BAD_ARGUMENT", "argument " + std::to_string(index) + " (" + meta.get_name() +
                                    ") is a scalar in the xclbin, but a buffer was given");
  }
  if (arg.memoryBank < 0) return k.group_id(index);
  const bool wired = std::any_of(mems.begin(), mems.end(),
                                 [&](const xrt::xclbin::mem& m) { return m.get_index() == arg.memoryBank; });
  if (!wired) {
    throw Error("BITSTREAM_INVALID", "argument " + meta.get_name() + ": memory bank " +
                                         std::to_string(arg.memoryBank) + " is not wired to it in the xclbin");
  }
  return arg.memoryBank;
}

Card::Placed Card::pooled(Buffers::Lent lent, const Arg& arg) {
  xrt::bo bo = lent.bo();
  return Placed{std::move(bo), &arg, std::move(lent)};
}

Card::Placed Card::place(int bank, const Arg& arg) {
  if (arg.bytes == 0) return pooled(loaded_->buffers.take(bank, kEmptyBytes), arg);
  if (arg.host == nullptr) throw Error("BAD_ARGUMENT", "buffer argument without memory");
  const auto* host = static_cast<const char*>(arg.host);
  const auto* base = arg.block ? static_cast<const char*>(arg.block->data()) : nullptr;
  // alloc()ed memory, the view at a whole page of its block (a sub-buffer
  // elsewhere may not be aligned as the card's DMA needs): the card DMAs
  // the request's own pages, no copy.
  if (base != nullptr && host >= base && arg.bytes <= arg.block->size() &&
      static_cast<size_t>(host - base) <= arg.block->size() - arg.bytes &&
      static_cast<size_t>(host - base) % Block::kAlignment == 0) {
    xrt::bo whole = loaded_->buffers.wrap(arg.block, bank);
    const auto offset = static_cast<size_t>(host - base);
    if (offset == 0 && arg.bytes == arg.block->size()) return Placed{whole, &arg, {}};
    return Placed{xrt::bo(whole, arg.bytes, offset), &arg, {}};
  }
  Placed placed = pooled(loaded_->buffers.take(bank, arg.bytes), arg);
  if (toDevice(arg)) placed.bo.write(arg.host, arg.bytes, 0);
  return placed;
}

Card::Started Card::start(size_t index, const RunItem& item) {
  const std::string& name = *item.kernel;
  const std::vector<Arg>& args = *item.args;
  if (item.globalSize > 1) {
    throw Error("BAD_ARGUMENT", "kernel '" + name + "': XRT kernels run as single tasks, not over " +
                                    std::to_string(item.globalSize) + " work-items");
  }
  const auto meta = loaded_->xclbin.get_kernel(name);
  if (!meta.get_handle()) throw Error("BITSTREAM_INVALID", "kernel '" + name + "' is not in the configured xclbin");
  if (meta.get_num_args() != args.size()) {
    throw Error("BAD_ARGUMENT", "kernel '" + name + "' takes " + std::to_string(meta.get_num_args()) +
                                    " arguments, " + std::to_string(args.size()) + " given");
  }
  auto& k = kernel(name);
  Started started{index, xrt::run(k), {}};
  for (size_t i = 0; i < args.size(); ++i) {
    const auto at = static_cast<int>(i);
    const Arg& arg = args[i];
    if (arg.kind == Arg::Kind::Scalar) {
      started.run.set_arg(at, static_cast<const void*>(arg.scalar.data()), arg.scalar.size());
      continue;
    }
    started.placed.push_back(place(bankOf(k, meta.get_arg(at), at, arg), arg));
    if (toDevice(arg)) started.placed.back().bo.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    started.run.set_arg(at, started.placed.back().bo);
  }
  started.run.start();
  return started;
}

void Card::finish(Started& started, const RunItem& item) {
  const auto state = started.run.wait();
  if (state != ERT_CMD_STATE_COMPLETED) {
    throw Error("DEVICE_ERROR", info_.name + ": kernel '" + *item.kernel + "' ended in XRT state " + std::to_string(state));
  }
  for (auto& p : started.placed) {
    if (fromDevice(*p.arg)) {
      p.bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
      if (p.lent.held()) p.bo.read(p.arg->host, p.arg->bytes, 0);
    }
  }
}

void Card::shrink() {
  if (loaded_) loaded_->buffers.shrink();
}

void Card::runMany(const std::vector<RunItem>& items, std::vector<std::exception_ptr>& errors) {
  errors.assign(items.size(), nullptr);
  if (!loaded_) throw Error("DEVICE_ERROR", info_.name + ": no bitstream configured");
  loaded_->buffers.purge();
  const auto guarded = [&](size_t i, const std::function<void()>& step) {
    try {
      step();
    } catch (const Error&) {
      errors[i] = std::current_exception();
    } catch (const std::exception& e) {
      errors[i] = std::make_exception_ptr(Error("DEVICE_ERROR", info_.name + ": kernel '" + *items[i].kernel + "': " + e.what()));
    }
  };
  std::vector<Started> running;
  const auto drain = [&] {
    for (auto& started : running) guarded(started.item, [&] { finish(started, items[started.item]); });
    running.clear();
  };
  for (size_t i = 0; i < items.size(); ++i) {
    for (const auto& started : running) {
      if (hazard(*items[i].args, *items[started.item].args)) {
        drain();
        break;
      }
    }
    guarded(i, [&] { running.push_back(start(i, items[i])); });
  }
  drain();
}

}  // namespace xrt_plugin
}  // namespace inaccel
