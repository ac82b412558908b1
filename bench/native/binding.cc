// The benchmark baselines as a Node-API addon (bench only). Arguments are
// the benchmark's own arrays; scatter needs a power-of-two table and masks
// every index, so no call can write outside the table.
#include <napi.h>

#include "baselines.h"

namespace {

template <typename T>
T *Data(const Napi::Value &v, size_t *length) {
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  *length = a.ElementLength();
  return reinterpret_cast<T *>(static_cast<uint8_t *>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// readSum(words) -> bigint
Napi::Value ReadSum(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(info.Env(), "readSum(BigUint64Array)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  size_t n;
  const uint64_t *w = Data<uint64_t>(info[0], &n);
  return Napi::BigInt::New(info.Env(), baseline_read_sum(n ? w : nullptr, n));
}

// scatter(add, acc, idx, deltas)
Napi::Value Scatter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsTypedArray()) {
    Napi::TypeError::New(env, "scatter(add, BigUint64Array, Uint32Array, BigUint64Array)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  size_t size, n, m;
  uint64_t *acc = Data<uint64_t>(info[1], &size);
  const uint32_t *idx = Data<uint32_t>(info[2], &n);
  const uint64_t *deltas = Data<uint64_t>(info[3], &m);
  if (n != m || size == 0 || (size & (size - 1)) != 0 || size > UINT32_MAX) {
    Napi::RangeError::New(env, "scatter needs a power-of-two table and one delta per index")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  baseline_scatter(info[0].ToBoolean().Value(), acc, static_cast<uint32_t>(size - 1), idx, deltas, n);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports["readSum"] = Napi::Function::New(env, ReadSum, "readSum");
  exports["scatter"] = Napi::Function::New(env, Scatter, "scatter");
  return exports;
}

} // namespace

NODE_API_MODULE(atomik_bench_baselines, Init)
