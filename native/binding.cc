// Node-API binding for the atomik C library. It only converts arguments:
// TypedArrays are used in place, results go into caller-provided arrays.
// Validation with good messages happens in TypeScript; the checks here
// exist so that no argument, however wrong, can crash the process.
#include <napi.h>

#include <string>

#include "atomik.h"
#include "batch.h"

static_assert(sizeof(atomik_op) == 16, "batch ops are 16 bytes");

void RegisterStream(Napi::Env env, Napi::Object exports); // native/stream_binding.cc

namespace {

template <typename T>
struct View {
  T *data = nullptr;
  size_t length = 0;
  bool ok = false;
};

// Returns a view of info[i] when it is a TypedArray of the wanted type,
// otherwise throws a TypeError (ok == false).
template <typename T>
View<T> TypedArg(const Napi::CallbackInfo &info, size_t i, napi_typedarray_type type, const char *expected) {
  View<T> view;
  Napi::Env env = info.Env();
  napi_typedarray_type actual;
  void *data = nullptr;
  if (info.Length() > i && info[i].IsTypedArray() &&
      napi_get_typedarray_info(env, info[i], &actual, &view.length, &data, nullptr, nullptr) == napi_ok &&
      actual == type) {
    // A detached buffer reports length 0 and may have no data pointer.
    view.data = view.length == 0 ? nullptr : static_cast<T *>(data);
    view.ok = true;
    return view;
  }
  Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be a " + expected).ThrowAsJavaScriptException();
  return view;
}

View<uint64_t> Words(const Napi::CallbackInfo &info, size_t i) {
  return TypedArg<uint64_t>(info, i, napi_biguint64_array, "BigUint64Array");
}

View<uint32_t> Indices(const Napi::CallbackInfo &info, size_t i) {
  return TypedArg<uint32_t>(info, i, napi_uint32_array, "Uint32Array");
}

bool GroupArg(const Napi::CallbackInfo &info, size_t i, atomik_group *group) {
  if (info.Length() > i && info[i].IsNumber()) {
    int32_t g = info[i].As<Napi::Number>().Int32Value();
    if (g == ATOMIK_XOR || g == ATOMIK_ADD) {
      *group = static_cast<atomik_group>(g);
      return true;
    }
  }
  Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a group (0 or 1)")
      .ThrowAsJavaScriptException();
  return false;
}

Napi::Value Fail(Napi::Env env, const char *message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Builds a table over (reference, accumulator) at arguments i and i + 1.
bool TableArgs(const Napi::CallbackInfo &info, size_t i, atomik_group group, atomik_table *t) {
  View<uint64_t> ref = Words(info, i);
  if (!ref.ok) return false;
  View<uint64_t> acc = Words(info, i + 1);
  if (!acc.ok) return false;
  if (ref.length != acc.length || ref.length > UINT32_MAX) {
    Fail(info.Env(), "reference and accumulator must have the same length (< 2^32)");
    return false;
  }
  t->reference = ref.data;
  t->accumulator = acc.data;
  t->size = static_cast<uint32_t>(ref.length);
  t->group = group;
  return true;
}

// reduce(group, deltas) -> bigint
Napi::Value Reduce(const Napi::CallbackInfo &info) {
  atomik_group g;
  if (!GroupArg(info, 0, &g)) return info.Env().Undefined();
  View<uint64_t> d = Words(info, 1);
  if (!d.ok) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), atomik_reduce(g, d.data, d.length));
}

// The arguments of scatter, gather and load:
// [group,] reference, accumulator, indices, words (one word per index).
struct Indexed {
  atomik_table table;
  View<uint32_t> idx;
  View<uint64_t> words;
  bool ok = false;
};

Indexed IndexedArgs(const Napi::CallbackInfo &info, bool grouped, const char *words_name) {
  Indexed a;
  atomik_group g = ATOMIK_XOR;
  size_t i = grouped ? 1 : 0;
  if ((grouped && !GroupArg(info, 0, &g)) || !TableArgs(info, i, g, &a.table)) return a;
  a.idx = Indices(info, i + 2);
  if (!a.idx.ok) return a;
  a.words = Words(info, i + 3);
  if (!a.words.ok) return a;
  if (a.idx.length != a.words.length) {
    Fail(info.Env(), (std::string("indices and ") + words_name + " must have the same length").c_str());
    return a;
  }
  a.ok = true;
  return a;
}

// scatter(group, reference, accumulator, indices, deltas) -> status
Napi::Value Scatter(const Napi::CallbackInfo &info) {
  Indexed a = IndexedArgs(info, true, "deltas");
  if (!a.ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), atomik_table_scatter(&a.table, a.idx.data, a.words.data, a.words.length));
}

// gather(group, reference, accumulator, indices, out) -> status
Napi::Value Gather(const Napi::CallbackInfo &info) {
  Indexed a = IndexedArgs(info, true, "out");
  if (!a.ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), atomik_table_gather(&a.table, a.idx.data, a.words.data, a.words.length));
}

// load(reference, accumulator, indices, values) -> status
Napi::Value Load(const Napi::CallbackInfo &info) {
  Indexed a = IndexedArgs(info, false, "values");
  if (!a.ok) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), atomik_table_load(&a.table, a.idx.data, a.words.data, a.words.length));
}

// The arguments of states and exec: group, reference, accumulator, words.
bool TableAndWords(const Napi::CallbackInfo &info, atomik_table *t, View<uint64_t> *words) {
  atomik_group g;
  if (!GroupArg(info, 0, &g) || !TableArgs(info, 1, g, t)) return false;
  *words = Words(info, 3);
  return words->ok;
}

// states(group, reference, accumulator, out) -> status
Napi::Value States(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  atomik_table t;
  View<uint64_t> out;
  if (!TableAndWords(info, &t, &out)) return env.Undefined();
  if (out.length != t.size) return Fail(env, "out must have one word per context");
  atomik_table_states(&t, out.data);
  return Napi::Number::New(env, ATOMIK_OK);
}

// exec(group, reference, accumulator, ops) -> status; ops is 2 words per op.
Napi::Value Exec(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  atomik_table t;
  View<uint64_t> ops;
  if (!TableAndWords(info, &t, &ops)) return env.Undefined();
  if (ops.length % 2 != 0) return Fail(env, "ops must hold 16 bytes per operation");
  return Napi::Number::New(env,
                           atomik_table_exec(&t, reinterpret_cast<atomik_op *>(ops.data), ops.length / 2, nullptr));
}

// Any ArrayBufferView: Buffer, Uint8Array, DataView, other TypedArrays.
bool BytesArg(const Napi::CallbackInfo &info, size_t i, const uint8_t **data, size_t *len) {
  Napi::Env env = info.Env();
  void *raw = nullptr;
  size_t count = 0;
  napi_typedarray_type type;
  bool ok = false;
  if (info.Length() > i && info[i].IsTypedArray()) {
    ok = napi_get_typedarray_info(env, info[i], &type, &count, &raw, nullptr, nullptr) == napi_ok;
    if (ok) count *= Napi::TypedArray(env, info[i]).ElementSize();
  } else if (info.Length() > i && info[i].IsDataView()) {
    ok = napi_get_dataview_info(env, info[i], &count, &raw, nullptr, nullptr) == napi_ok;
  }
  if (!ok) {
    Napi::TypeError::New(env, "argument " + std::to_string(i) + " must be an ArrayBufferView")
        .ThrowAsJavaScriptException();
    return false;
  }
  *len = count;
  *data = count == 0 ? nullptr : static_cast<const uint8_t *>(raw);
  return true;
}

Napi::Value FoldXor(const Napi::CallbackInfo &info) {
  const uint8_t *data;
  size_t len;
  if (!BytesArg(info, 0, &data, &len)) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), atomik_fold_xor(data, len));
}

Napi::Value FoldPositional(const Napi::CallbackInfo &info) {
  const uint8_t *data;
  size_t len;
  if (!BytesArg(info, 0, &data, &len)) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), atomik_fold_positional(data, len));
}

// applyBatch(group, reference, accumulator, partition, entry) -> status:
// one replication entry checked whole, then scattered (native/batch.h).
Napi::Value ApplyBatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  atomik_group g;
  atomik_table t;
  if (!GroupArg(info, 0, &g) || !TableArgs(info, 1, g, &t)) return env.Undefined();
  if (info.Length() < 4 || !info[3].IsNumber()) return Fail(env, "argument 3 must be a partition number");
  int64_t partition = info[3].As<Napi::Number>().Int64Value();
  if (partition < 0 || partition > UINT16_MAX) return Fail(env, "argument 3 must be a partition number");
  const uint8_t *data;
  size_t len;
  if (!BytesArg(info, 4, &data, &len)) return env.Undefined();
  if (data == nullptr) return Napi::Number::New(env, ATOMIK_BATCH_EFORMAT);
  return Napi::Number::New(env, atomik_batch_apply(&t, static_cast<uint16_t>(partition), data, len));
}

// batchChecksum(entry) -> bigint
Napi::Value BatchChecksum(const Napi::CallbackInfo &info) {
  const uint8_t *data;
  size_t len;
  if (!BytesArg(info, 0, &data, &len)) return info.Env().Undefined();
  return Napi::BigInt::New(info.Env(), data == nullptr ? 0 : atomik_batch_checksum(data, len));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["abiVersion"] = Napi::Number::New(env, ATOMIK_ABI_VERSION);
  exports["reduce"] = Napi::Function::New(env, Reduce, "reduce");
  exports["scatter"] = Napi::Function::New(env, Scatter, "scatter");
  exports["gather"] = Napi::Function::New(env, Gather, "gather");
  exports["load"] = Napi::Function::New(env, Load, "load");
  exports["states"] = Napi::Function::New(env, States, "states");
  exports["exec"] = Napi::Function::New(env, Exec, "exec");
  exports["foldXor"] = Napi::Function::New(env, FoldXor, "foldXor");
  exports["foldPositional"] = Napi::Function::New(env, FoldPositional, "foldPositional");
  exports["applyBatch"] = Napi::Function::New(env, ApplyBatch, "applyBatch");
  exports["batchChecksum"] = Napi::Function::New(env, BatchChecksum, "batchChecksum");
  RegisterStream(env, exports);
  return exports;
}

} // namespace

NODE_API_MODULE(atomik, Init)
