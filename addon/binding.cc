// Node-API glue: converts JS values to the plain C++ types of the core
// (runtime, engine, arbiter, memory) and back. No logic of its own.
#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "arbiter/arbiter.h"
#include "common/error.h"
#include "engine/engine.h"
#include "memory/block.h"
#include "memory/block_index.h"
#include "runtime/discovery.h"
#include "runtime/opencl/pinned_allocator.h"

namespace {

using inaccel::Arg;
using inaccel::BlockPtr;

// A JS Error with a `code`, through the C API alone (see settleFinished);
// nullptr when it cannot be made.
napi_value errorValue(napi_env env, const std::string& code, const std::string& message) {
  napi_value jsCode, jsMessage, error;
  if (napi_create_string_utf8(env, code.data(), code.size(), &jsCode) != napi_ok ||
      napi_create_string_utf8(env, message.data(), message.size(), &jsMessage) != napi_ok ||
      napi_create_error(env, jsCode, jsMessage, &error) != napi_ok) {
    return nullptr;
  }
  return error;
}

Napi::Error toJs(Napi::Env env, const std::string& code, const std::string& message) {
  return Napi::Error(env, errorValue(env, code, message));
}

// The JS side of one alloc()ed block: the ArrayBuffer's finalizer hint.
struct Holder {
  BlockPtr block;
};

// The JS side of a prepared plan: an External's data.
struct PlanRef {
  std::shared_ptr<const inaccel::Plan> plan;
};

// Bytes per element of a typed array type.
size_t elementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
    default:
      return 1;
  }
}

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

constexpr napi_type_tag kPlanTag = {0x696e616363656c00, 0x706c616e00000001};

// A submitted job's JS-thread state, handed back with the outcome. The
// submitter keeps the request's values alive until it is settled. One per
// slot, reused by the slot's next request: no allocation per request.
struct Pending {
  uint32_t slot = 0;  // the submitter's number for the request
  bool busy = false;  // submitted and not yet settled
  // What the job points to (see inaccel::Job), let go on this thread.
  std::shared_ptr<const inaccel::Plan> plan;
  std::vector<Arg> args;
  inaccel::Outcome outcome;

  // Lets go of the plan and the blocks once the request is settled (or
  // never went out); the vectors keep their room for the next request.
  void clear() {
    busy = false;
    plan.reset();
    for (Arg& arg : args) arg.block.reset();
  }
};
// Slots beyond this are refused: the JS side numbers the requests it has in
// flight from 0, reusing freed numbers.
constexpr uint32_t kMaxSlots = 1u << 24;

// Finished requests reach JavaScript as records of doubles in one array the
// addon and the settle callback share, a batch at a time: no promise, array
// or reference per request on the Node-API side.
constexpr size_t kRecordFields = 5;  // slot, device, queuedNs, runNs, flags
constexpr size_t kRecords = 1024;    // per call of the settle callback
constexpr double kOk = 1, kReconfigured = 2;  // flags

class Addon : public Napi::Addon<Addon> {
 public:
  Addon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
        InstanceMethod("discover", &Addon::Discover),
        InstanceMethod("open", &Addon::Open),
        InstanceMethod("alloc", &Addon::Alloc),
        InstanceMethod("release", &Addon::Release),
        InstanceMethod("prepare", &Addon::Prepare),
        InstanceMethod("submit", &Addon::Submit),
        InstanceMethod("cancel", &Addon::Cancel),
        InstanceMethod("lease", &Addon::Lease),
        InstanceMethod("abortLease", &Addon::AbortLease),
        InstanceMethod("unlease", &Addon::Unlease),
        InstanceMethod("snapshot", &Addon::Snapshot),
        InstanceMethod("inspect", &Addon::Inspect),
    });
    completions_ = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "inaccel", 0, 1);
    completions_.Unref(env);
  }

  ~Addon() {
    engine_.reset();  // joins the workers: nothing completes after this
    completions_.Release();
  }

 private:
  template <typename F>
  Napi::Value guarded(Napi::Env env, F&& body) {
    try {
      return body();
    } catch (const inaccel::Error& error) {
      throw toJs(env, error.code(), error.what());
    } catch (const std::bad_alloc&) {
      throw toJs(env, "DEVICE_ERROR", "out of host memory");
    }
  }

  static Napi::Object deviceInfo(Napi::Env env, const inaccel::DeviceInfo& info) {
    Napi::Object platform = Napi::Object::New(env);
    platform.Set("vendor", info.platformVendor);
    platform.Set("name", info.platformName);
    platform.Set("version", info.platformVersion);
    Napi::Object out = Napi::Object::New(env);
    out.Set("key", info.key);
    out.Set("backend", info.backend);
    out.Set("platform", platform);
    out.Set("vendor", info.vendor);
    out.Set("name", info.name);
    out.Set("type", info.type);
    out.Set("version", info.version);
    out.Set("memory", static_cast<double>(info.globalMemory));
    out.Set("compiler", info.compiler);
    return out;
  }

  // discover() -> { devices: [...], problems: [{backend, code, message}] }
  Napi::Value Discover(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_ && discovered_.devices.empty() && discovered_.problems.empty()) {
        discovered_ = inaccel::discover();
      }
      Napi::Array devices = Napi::Array::New(env);
      for (const auto& device : devicesSeen()) devices.Set(devices.Length(), deviceInfo(env, device->info()));
      Napi::Array problems = Napi::Array::New(env);
      for (const auto& problem : discovered_.problems) {
        Napi::Object p = Napi::Object::New(env);
        p.Set("backend", problem.backend);
        p.Set("code", problem.code);
        p.Set("message", problem.message);
        problems.Set(problems.Length(), p);
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("devices", devices);
      out.Set("problems", problems);
      return out;
    });
  }

  std::vector<const inaccel::Device*> devicesSeen() const {
    std::vector<const inaccel::Device*> out;
    if (engine_) {
      for (size_t i = 0; i < engine_->size(); ++i) out.push_back(&engine_->device(i));
    } else {
      for (const auto& device : discovered_.devices) out.push_back(device.get());
    }
    return out;
  }

  // open({ devices: number[], modes: string[], stateDir, quantumMs })
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (engine_) throw inaccel::Error("ARBITER_ERROR", "the engine is already open");
      Napi::Object options = info[0].As<Napi::Object>();
      Napi::Array selected = options.Get("devices").As<Napi::Array>();
      Napi::Array modes = options.Get("modes").As<Napi::Array>();
      inaccel::EngineOptions engineOptions;
      engineOptions.arbiter.dir = options.Get("stateDir").As<Napi::String>();
      engineOptions.arbiter.quantumNs = static_cast<uint64_t>(
          options.Get("quantumMs").As<Napi::Number>().DoubleValue() * 1e6);
      std::vector<std::unique_ptr<inaccel::Device>> devices;
      for (uint32_t i = 0; i < selected.Length(); ++i) {
        const uint32_t index = selected.Get(i).As<Napi::Number>().Uint32Value();
        if (index >= discovered_.devices.size() || !discovered_.devices[index]) {
          throw inaccel::Error("NO_DEVICE", "no device " + std::to_string(index));
        }
        devices.push_back(std::move(discovered_.devices[index]));
        const std::string mode = modes.Get(i).As<Napi::String>();
        engineOptions.modes.push_back(mode == "exclusive" ? inaccel::DeviceMode::Exclusive
                                                          : inaccel::DeviceMode::Shared);
      }
      discovered_.devices.clear();
      engine_ = std::make_unique<inaccel::Engine>(std::move(devices), engineOptions);
      settle_ = Napi::Persistent(info[1].As<Napi::Function>());
      Napi::ArrayBuffer records = Napi::ArrayBuffer::New(env, kRecords * kRecordFields * sizeof(double));
      recordsBuffer_ = Napi::Persistent(records);
      records_ = static_cast<double*>(records.Data());
      return Napi::Float64Array::New(env, kRecords * kRecordFields, records, 0);
    });
  }

  // alloc(bytes) -> an ArrayBuffer over a new block.
  Napi::Value Alloc(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const double bytes = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
      if (!(bytes >= 0 && bytes <= kMaxSafeInteger && std::floor(bytes) == bytes)) {
        throw inaccel::Error("BAD_ARGUMENT", "alloc takes a whole number of bytes");
      }
      inaccel::opencl::installPinnedAllocator();
      // Not make_shared: its count would share a cache line with the
      // block's fields, which the device's worker reads while this thread
      // counts every request that holds the block in and out.
      auto* holder = new Holder{BlockPtr(new inaccel::Block(static_cast<size_t>(bytes)))};
      void* data = holder->block->data();
      // Through the C API: past buffer.constants.MAX_LENGTH bytes (2^32 on
      // Node < 22) Node runs the finalizer with `holder` at once and fails,
      // and node-addon-api's ArrayBuffer::New then frees its own finalizer
      // data a second time.
      napi_value buffer;
      if (napi_create_external_arraybuffer(env, data, holder->block->size(), finalizeBlock, holder, &buffer) != napi_ok) {
        napi_value ignored;
        napi_get_and_clear_last_exception(env, &ignored);
        throw inaccel::Error("BAD_ARGUMENT", "Node.js cannot make an ArrayBuffer of " +
                                                 std::to_string(static_cast<uint64_t>(bytes)) + " bytes over native memory");
      }
      blocks_.insert(data, holder->block->size(), holder);
      return Napi::Value(env, buffer);
    });
  }

  // An alloc()ed ArrayBuffer was collected (or failed to be made).
  static void finalizeBlock(napi_env env, void* data, void* hint) {
    auto* holder = static_cast<Holder*>(hint);
    void* addon = nullptr;
    if (napi_get_instance_data(env, &addon) == napi_ok && addon) {
      static_cast<Addon*>(addon)->blocks_.erase(data, holder);
    }
    if (holder->block) holder->block->markReleased();
    delete holder;
  }

  // Whether `buffer` is a resizable ArrayBuffer: one that may shrink while
  // a request uses its memory. A SharedArrayBuffer (no `resizable`) only grows.
  static bool resizable(napi_env env, napi_value buffer) {
    napi_value value;
    bool result = false;
    return napi_get_named_property(env, buffer, "resizable", &value) == napi_ok &&
           napi_get_value_bool(env, value, &result) == napi_ok && result;
  }

  // release(arrayBuffer) -> true if it was alloc()ed and is now freed.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
    Holder* holder = blocks_.erase(buffer.Data());
    if (!holder) return Napi::Boolean::New(env, false);
    buffer.Detach();
    holder->block->markReleased();
    holder->block.reset();
    return Napi::Boolean::New(env, true);
  }

  static inaccel::Bitstream bitstream(Napi::Object js) {
    inaccel::Bitstream out;
    out.id = js.Get("id").As<Napi::String>();
    out.format = js.Get("format").As<Napi::String>();
    out.path = js.Get("path").As<Napi::String>();
    out.sha256 = js.Get("sha256").As<Napi::String>();
    Napi::Value options = js.Get("buildOptions");
    if (options.IsString()) out.buildOptions = options.As<Napi::String>();
    return out;
  }

  // prepare({ accelerator, access: [0|1|2 buffer, -1 scalar],
  //           candidates: [{device, kernel, bitstream, memory: [bank | -1], chunkArg}] }) -> plan
  Napi::Value Prepare(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_) throw inaccel::Error("NO_DEVICE", "the engine is not open");
      Napi::Object request = info[0].As<Napi::Object>();
      auto plan = std::make_shared<inaccel::Plan>();
      plan->accelerator = request.Get("accelerator").As<Napi::String>();
      Napi::Array access = request.Get("access").As<Napi::Array>();
      for (uint32_t i = 0; i < access.Length(); ++i) {
        const int32_t way = access.Get(i).As<Napi::Number>().Int32Value();
        plan->params.push_back({way >= 0, way == 0   ? inaccel::Access::Read
                                          : way == 1 ? inaccel::Access::Write
                                                     : inaccel::Access::ReadWrite});
      }
      Napi::Array candidates = request.Get("candidates").As<Napi::Array>();
      for (uint32_t i = 0; i < candidates.Length(); ++i) {
        Napi::Object c = candidates.Get(i).As<Napi::Object>();
        std::vector<int> banks;
        Napi::Array memory = c.Get("memory").As<Napi::Array>();
        for (uint32_t k = 0; k < memory.Length(); ++k) {
          banks.push_back(memory.Get(k).As<Napi::Number>().Int32Value());
        }
        plan->candidates.push_back({c.Get("device").As<Napi::Number>().Uint32Value(),
                                    bitstream(c.Get("bitstream").As<Napi::Object>()),
                                    c.Get("kernel").As<Napi::String>(), std::move(banks),
                                    c.Get("chunkArg").As<Napi::Number>().Int32Value()});
      }
      engine_->prepare(*plan);
      auto external = Napi::External<PlanRef>::New(env, new PlanRef{std::move(plan)},
                                                   [](Napi::Env, PlanRef* ref) { delete ref; });
      external.TypeTag(&kPlanTag);
      return external;
    });
  }

  // submit(plan, globalSize, slot, ...typed array per buffer argument or
  // bytes per scalar): settled later through the records. The arguments
  // come as call arguments: reading them from an array costs a
  // napi_get_element each, on the per-request path.
  Napi::Value Submit(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_) throw inaccel::Error("NO_DEVICE", "the engine is not open");
      const auto external = info[0].As<Napi::External<PlanRef>>();
      if (!info[0].IsExternal() || !external.CheckTypeTag(&kPlanTag)) {
        throw inaccel::Error("BAD_ARGUMENT", "submit takes a plan made by prepare");
      }
      std::shared_ptr<const inaccel::Plan> plan = external.Data()->plan;
      const std::vector<inaccel::Param>& params = plan->params;
      constexpr size_t kFirstArg = 3;
      if (info.Length() != kFirstArg + params.size()) {
        throw inaccel::Error("BAD_ARGUMENT", plan->accelerator + " takes " +
                                                 std::to_string(params.size()) + " arguments");
      }
      const uint32_t slot = info[2].As<Napi::Number>().Uint32Value();
      if (slot >= kMaxSlots) throw inaccel::Error("BAD_ARGUMENT", "submit's slot is out of range");
      if (slot >= pendings_.size()) pendings_.resize(slot + 1);
      if (!pendings_[slot]) pendings_[slot] = std::make_unique<Pending>();
      Pending& pending = *pendings_[slot];
      if (pending.busy) throw inaccel::Error("BAD_ARGUMENT", "submit's slot " + std::to_string(slot) + " is in flight");
      // Lets go of what the arguments took if one of them is refused.
      struct Unwind {
        Pending* pending;
        ~Unwind() {
          if (pending) pending->clear();
        }
      } unwind{&pending};
      pending.busy = true;
      pending.slot = slot;
      pending.args.resize(params.size());
      for (uint32_t i = 0; i < params.size(); ++i) {
        // One napi_get_typedarray_info per argument: Napi::TypedArray's
        // accessors would each ask again (this is the per-request path).
        napi_value value = info[kFirstArg + i];
        napi_typedarray_type type;
        size_t length = 0;
        void* data = nullptr;
        napi_value buffer;  // at no extra cost: the data pointer needs it
        if (napi_get_typedarray_info(env, value, &type, &length, &data, &buffer, nullptr) != napi_ok) {
          throw inaccel::Error("BAD_ARGUMENT", "argument " + std::to_string(i) + " is not typed");
        }
        const size_t elementBytes = elementSize(type);
        Arg& arg = pending.args[i];
        arg = Arg{};
        if (!params[i].buffer) {
          if (!arg.scalar.assign(static_cast<uint8_t*>(data), length * elementBytes)) {
            throw inaccel::Error("BAD_ARGUMENT", "argument " + std::to_string(i) + " is wider than any scalar");
          }
        } else {
          arg.kind = Arg::Kind::Buffer;
          arg.host = static_cast<uint8_t*>(data);
          arg.bytes = length * elementBytes;
          arg.elementBytes = elementBytes;
          arg.access = params[i].access;
          // A view anywhere in an alloc()ed block holds the block until
          // the request is done, however early JS releases it.
          if (Holder* holder = blocks_.containing(data, arg.bytes)) {
            arg.block = holder->block;
          } else if (resizable(env, buffer)) {
            throw inaccel::Error("BAD_ARGUMENT", "argument " + std::to_string(i) + " of " + plan->accelerator +
                                                     " is over a resizable ArrayBuffer, which could shrink under the request");
          }
        }
      }
      pending.plan = std::move(plan);
      inaccel::Job job;
      job.id = slot;
      job.plan = pending.plan.get();
      job.args = &pending.args;
      job.globalSize = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
      job.done = [this, raw = &pending](const inaccel::Outcome& outcome) {
        raw->outcome = outcome;
        finished(raw);
      };
      if (inFlight_++ == 0) completions_.Ref(env);
      try {
        engine_->submit(std::move(job));
      } catch (...) {
        if (--inFlight_ == 0) completions_.Unref(env);
        throw;
      }
      unwind.pending = nullptr;
      return env.Undefined();
    });
  }

  // cancel(slots): how many of those requests were still queued; they
  // then settle through the records, failed with ABORTED.
  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!info[0].IsArray()) throw inaccel::Error("BAD_ARGUMENT", "cancel takes an array of slots");
      if (!engine_) return Napi::Number::New(env, 0);
      const Napi::Array slots = info[0].As<Napi::Array>();
      std::unordered_set<uint64_t> ids;
      for (uint32_t i = 0; i < slots.Length(); ++i) {
        const Napi::Value slot = slots.Get(i);
        if (slot.IsNumber()) ids.insert(slot.As<Napi::Number>().Uint32Value());
      }
      return Napi::Number::New(env, static_cast<double>(engine_->cancel(ids)));
    });
  }

  // On a worker thread: hands a finished job to the JS thread. Jobs that
  // finish while the JS thread has not yet come for the earlier ones go with
  // them: one wake-up settles a whole batch.
  void finished(Pending* pending) {
    bool first;
    {
      std::lock_guard<std::mutex> lock(finishedMutex_);
      first = finished_.empty();
      finished_.push_back(pending);
    }
    if (!first) return;
    completions_.NonBlockingCall([](Napi::Env env, Napi::Function) {
      void* addon = nullptr;
      if (env && napi_get_instance_data(env, &addon) == napi_ok && addon) {
        static_cast<Addon*>(addon)->settleFinished(env);
      }
    });
  }

  // Writes a record per finished request and calls the settle callback
  // once per kRecords, with the errors of the failed ones in record order.
  // Through the C API, returning at the first call that fails: a worker
  // thread terminated with requests in flight can no longer run
  // JavaScript, and node-addon-api aborts the process on such a failure
  // here, outside any JS call. An exception the settle callback throws stays
  // pending, for Node to report as any callback's.
  void settleFinished(napi_env env) {
    {
      std::lock_guard<std::mutex> lock(finishedMutex_);
      settling_.swap(finished_);  // both keep their room
    }
    // Whatever fails below, the batch's requests let go of what they held.
    struct Clear {
      std::vector<Pending*>& batch;
      ~Clear() {
        for (Pending* pending : batch) pending->clear();
        batch.clear();
      }
    } clear{settling_};
    const std::vector<Pending*>& batch = settling_;
    for (size_t first = 0; first < batch.size(); first += kRecords) {
      const size_t count = std::min(kRecords, batch.size() - first);
      for (size_t i = 0; i < count; ++i) {
        const inaccel::Outcome& outcome = batch[first + i]->outcome;
        double* record = records_ + i * kRecordFields;
        record[0] = batch[first + i]->slot;
        record[1] = outcome.device;
        record[2] = static_cast<double>(outcome.queuedNs);
        record[3] = static_cast<double>(outcome.runNs);
        record[4] = (outcome.ok ? kOk : 0) + (outcome.reconfigured ? kReconfigured : 0);
      }
      inFlight_ -= count;
      if (inFlight_ == 0) napi_unref_threadsafe_function(env, completions_);
      napi_value argv[2], receiver, settle;
      if (napi_create_double(env, static_cast<double>(count), &argv[0]) != napi_ok ||
          napi_get_undefined(env, &argv[1]) != napi_ok) {
        return;
      }
      uint32_t failed = 0;
      for (size_t i = 0; i < count; ++i) {
        const inaccel::Outcome& outcome = batch[first + i]->outcome;
        if (outcome.ok) continue;
        napi_value error = errorValue(env, outcome.code, outcome.message);
        if (!error || (failed == 0 && napi_create_array(env, &argv[1]) != napi_ok) ||
            napi_set_element(env, argv[1], failed++, error) != napi_ok) {
          return;
        }
      }
      // Done with before JS frees their slots for the next requests.
      for (size_t i = 0; i < count; ++i) batch[first + i]->clear();
      if (napi_get_undefined(env, &receiver) != napi_ok ||
          napi_get_reference_value(env, settle_, &settle) != napi_ok ||
          napi_call_function(env, receiver, settle, 2, argv, nullptr) != napi_ok) {
        return;
      }
    }
  }

  // lease(device, wait, callback(error | undefined)) -> ticket for
  // abortLease. The wait runs on a thread of its own (Engine::lease); the
  // callback runs here once it ends, through `completions_` as finished
  // requests do, and keeps the event loop alive until then.
  Napi::Value Lease(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_) throw inaccel::Error("NO_DEVICE", "the engine is not open");
      if (!info[2].IsFunction()) throw inaccel::Error("BAD_ARGUMENT", "lease takes a callback");
      const auto done = [this](uint64_t ticket, const inaccel::Error* error) {
        std::optional<std::pair<std::string, std::string>> failure;
        if (error) failure.emplace(error->code(), error->what());
        completions_.NonBlockingCall([ticket, failure](Napi::Env env, Napi::Function) {
          void* addon = nullptr;
          if (env && napi_get_instance_data(env, &addon) == napi_ok && addon) {
            static_cast<Addon*>(addon)->leaseEnded(env, ticket, failure);
          }
        });
      };
      napi_ref callback;
      if (napi_create_reference(env, info[2], 1, &callback) != napi_ok) throw Napi::Error::New(env);
      uint64_t ticket;
      try {
        ticket = engine_->lease(info[0].As<Napi::Number>().Uint32Value(), info[1].ToBoolean(), done);
      } catch (...) {
        napi_delete_reference(env, callback);
        throw;
      }
      // Filed before the wait's end can reach this thread (it comes through completions_).
      leaseCallbacks_.emplace(ticket, callback);
      if (inFlight_++ == 0) completions_.Ref(env);
      return Napi::Number::New(env, static_cast<double>(ticket));
    });
  }

  // Calls the callback of an ended lease wait, through the C API alone (see settleFinished).
  void leaseEnded(napi_env env, uint64_t ticket, const std::optional<std::pair<std::string, std::string>>& failure) {
    const auto found = leaseCallbacks_.find(ticket);
    if (found == leaseCallbacks_.end()) return;
    const napi_ref ref = found->second;
    leaseCallbacks_.erase(found);
    if (--inFlight_ == 0) napi_unref_threadsafe_function(env, completions_);
    napi_value callback, receiver, argv[1];
    const bool ready = napi_get_reference_value(env, ref, &callback) == napi_ok &&
                       napi_get_undefined(env, &receiver) == napi_ok;
    napi_delete_reference(env, ref);
    if (!ready) return;
    argv[0] = failure ? errorValue(env, failure->first, failure->second) : receiver;
    if (argv[0]) napi_call_function(env, receiver, callback, 1, argv, nullptr);
  }

  Napi::Value AbortLease(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (engine_) engine_->abortLease(static_cast<uint64_t>(info[0].As<Napi::Number>().DoubleValue()));
    return env.Undefined();
  }

  Napi::Value Unlease(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_) throw inaccel::Error("NO_DEVICE", "the engine is not open");
      engine_->unlease(info[0].As<Napi::Number>().Uint32Value());
      return env.Undefined();
    });
  }

  static Napi::Object snapshotJs(Napi::Env env, const inaccel::Snapshot& snapshot) {
    Napi::Array devices = Napi::Array::New(env);
    for (const auto& d : snapshot.devices) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("index", d.index);
      o.Set("key", d.key);
      o.Set("mode", d.mode == inaccel::DeviceMode::Exclusive ? "exclusive" : "shared");
      o.Set("bitstream", d.bitstream);
      o.Set("generation", static_cast<double>(d.generation));
      o.Set("reconfigurations", static_cast<double>(d.reconfigurations));
      o.Set("configureNs", static_cast<double>(d.configureNs));
      o.Set("queueDepth", d.queueDepth);
      o.Set("waiting", d.waiting);
      o.Set("lessee", d.lessee);
      Napi::Array users = Napi::Array::New(env);
      for (int32_t pid : d.users) users.Set(users.Length(), pid);
      o.Set("users", users);
      Napi::Array kernels = Napi::Array::New(env);
      for (const auto& k : d.kernels) {
        Napi::Object ko = Napi::Object::New(env);
        ko.Set("accelerator", k.accelerator);
        ko.Set("ok", static_cast<double>(k.ok));
        ko.Set("failed", static_cast<double>(k.failed));
        ko.Set("busyNs", static_cast<double>(k.busyNs));
        kernels.Set(kernels.Length(), ko);
      }
      o.Set("kernels", kernels);
      devices.Set(devices.Length(), o);
    }
    Napi::Array processes = Napi::Array::New(env);
    for (const auto& p : snapshot.processes) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("pid", p.pid);
      o.Set("startTime", static_cast<double>(p.startTime));
      processes.Set(processes.Length(), o);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("devices", devices);
    out.Set("processes", processes);
    return out;
  }

  Napi::Value Snapshot(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      if (!engine_) throw inaccel::Error("NO_DEVICE", "the engine is not open");
      return snapshotJs(env, engine_->snapshot());
    });
  }

  Napi::Value Inspect(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      return snapshotJs(env, inaccel::Arbiter::inspect(info[0].As<Napi::String>()));
    });
  }

  inaccel::Discovery discovered_;
  std::unique_ptr<inaccel::Engine> engine_;
  inaccel::BlockIndex<Holder> blocks_;  // alloc()ed blocks
  Napi::ThreadSafeFunction completions_;
  Napi::FunctionReference settle_;          // the JS side's settle callback
  Napi::Reference<Napi::ArrayBuffer> recordsBuffer_;  // the records it reads,
  double* records_ = nullptr;                          // at this address
  std::mutex finishedMutex_;
  std::vector<Pending*> finished_;  // finished on a worker, not yet settled
  std::vector<Pending*> settling_;  // taken from finished_ by settleFinished
  // By slot; ~Addon stops the workers, which point into them, first.
  std::vector<std::unique_ptr<Pending>> pendings_;
  uint64_t inFlight_ = 0;  // requests and lease waits not yet settled
  std::unordered_map<uint64_t, napi_ref> leaseCallbacks_;  // by lease ticket
};

}  // namespace

NODE_API_ADDON(Addon)
