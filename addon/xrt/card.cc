#include "card.h"

#include <algorithm>
#include <cstdint>

#include "common/error.h"
#include "xclbin_check.h"

namespace inaccel {
namespace xrt_plugin {
namespace {

bool toDevice(const Arg& arg) { return arg.access != Access::Write; }
bool fromDevice(const Arg& arg) { return arg.access != Access::Read; }

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

Card::Placed Card::place(int bank, const Arg& arg) {
  if (arg.bytes == 0 || arg.host == nullptr) throw Error("BAD_ARGUMENT", "empty buffer argument");
  const auto* host = static_cast<const char*>(arg.host);
  const auto* base = arg.block ? static_cast<const char*>(arg.block->data()) : nullptr;
  if (base != nullptr && host >= base && arg.bytes <= arg.block->size() &&
      static_cast<size_t>(host - base) <= arg.block->size() - arg.bytes) {
    // alloc()ed memory: the card DMAs the request's own pages, no copy.
    xrt::bo whole = loaded_->buffers.wrap(arg.block, bank);
    const auto offset = static_cast<size_t>(host - base);
    if (offset == 0 && arg.bytes == arg.block->size()) return Placed{whole, &arg, bank, false};
    return Placed{xrt::bo(whole, arg.bytes, offset), &arg, bank, false};
  }
  xrt::bo bo = loaded_->buffers.take(bank, arg.bytes);
  if (toDevice(arg)) bo.write(arg.host, arg.bytes, 0);
  return Placed{std::move(bo), &arg, bank, true};
}

void Card::execute(const std::string& name, const std::vector<Arg>& args) {
  const auto meta = loaded_->xclbin.get_kernel(name);
  if (!meta.get_handle()) throw Error("BITSTREAM_INVALID", "kernel '" + name + "' is not in the configured xclbin");
  if (meta.get_num_args() != args.size()) {
    throw Error("BAD_ARGUMENT", "kernel '" + name + "' takes " + std::to_string(meta.get_num_args()) +
                                    " arguments, " + std::to_string(args.size()) + " given");
  }
  loaded_->buffers.purge();
  auto& k = kernel(name);
  xrt::run run(k);
  std::vector<Placed> placed;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto index = static_cast<int>(i);
    const Arg& arg = args[i];
    if (arg.kind == Arg::Kind::Scalar) {
      run.set_arg(index, static_cast<const void*>(arg.scalar.data()), arg.scalar.size());
      continue;
    }
    placed.push_back(place(bankOf(k, meta.get_arg(index), index, arg), arg));
    if (toDevice(arg)) placed.back().bo.sync(XCL_BO_SYNC_BO_TO_DEVICE);
    run.set_arg(index, placed.back().bo);
  }
  run.start();
  const auto state = run.wait();
  if (state != ERT_CMD_STATE_COMPLETED) {
    throw Error("DEVICE_ERROR", info_.name + ": kernel '" + name + "' ended in XRT state " + std::to_string(state));
  }
  for (auto& p : placed) {
    if (fromDevice(*p.arg)) {
      p.bo.sync(XCL_BO_SYNC_BO_FROM_DEVICE);
      if (p.pooled) p.bo.read(p.arg->host, p.arg->bytes, 0);
    }
    if (p.pooled) loaded_->buffers.put(p.bank, p.arg->bytes, std::move(p.bo));
  }
}

void Card::runMany(const std::vector<RunItem>& items, std::vector<std::exception_ptr>& errors) {
  errors.assign(items.size(), nullptr);
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      run(*items[i].kernel, *items[i].args, items[i].globalSize);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
}

void Card::run(const std::string& kernel, const std::vector<Arg>& args, size_t globalSize) {
  if (!loaded_) throw Error("DEVICE_ERROR", info_.name + ": no bitstream configured");
  if (globalSize > 1) {
    throw Error("BAD_ARGUMENT", "kernel '" + kernel + "': XRT kernels run as single tasks, not over " +
                                    std::to_string(globalSize) + " work-items");
  }
  try {
    execute(kernel, args);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error("DEVICE_ERROR", info_.name + ": kernel '" + kernel + "': " + e.what());
  }
}

}  // namespace xrt_plugin
}  // namespace inaccel
