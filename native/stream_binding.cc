// Node-API wrapper for native/stream.c: argument conversion only, with the
// checks that keep any argument, however wrong, from crashing the process.
#include <napi.h>

#include <cstdint>

#include "stream.h"

namespace {

template <typename T>
bool Typed(const Napi::CallbackInfo &info, size_t i, napi_typedarray_type type, T **data, size_t *length) {
  napi_typedarray_type actual;
  void *raw = nullptr;
  if (info.Length() > i && info[i].IsTypedArray() &&
      napi_get_typedarray_info(info.Env(), info[i], &actual, length, &raw, nullptr, nullptr) == napi_ok &&
      actual == type) {
    *data = *length == 0 ? nullptr : static_cast<T *>(raw);
    return true;
  }
  Napi::TypeError::New(info.Env(), "streamReceive: argument " + std::to_string(i) + " has the wrong type")
      .ThrowAsJavaScriptException();
  return false;
}

bool Overlap(const void *a, size_t a_len, const void *b, size_t b_len) {
  if (a == nullptr || b == nullptr || a_len == 0 || b_len == 0) return false;
  uintptr_t x = reinterpret_cast<uintptr_t>(a), y = reinterpret_cast<uintptr_t>(b);
  return x < y + b_len && y < x + a_len;
}

// streamReceive(group, acc, msgs, through, highest, next, head, offset, bits, window, receipts | null, counts)
//   -> status (0, or a negative atomik / stream status)
Napi::Value StreamReceive(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 12 || !info[0].IsNumber() || !info[9].IsNumber()) {
    Napi::TypeError::New(env, "streamReceive: expected 12 arguments").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int32_t group = info[0].As<Napi::Number>().Int32Value();
  int64_t window = info[9].As<Napi::Number>().Int64Value();
  uint64_t *acc;
  const uint8_t *msgs;
  uint8_t *msgs_rw;
  double *through, *highest, *counts;
  uint32_t *next, *head, *bits;
  int32_t *offset;
  size_t contexts, msgs_len, n_through, n_highest, n_next, n_head, n_offset, bits_words, n_counts;
  if (!Typed(info, 1, napi_biguint64_array, &acc, &contexts) ||
      !Typed(info, 2, napi_uint8_array, &msgs_rw, &msgs_len) ||
      !Typed(info, 3, napi_float64_array, &through, &n_through) ||
      !Typed(info, 4, napi_float64_array, &highest, &n_highest) || !Typed(info, 5, napi_uint32_array, &next, &n_next) ||
      !Typed(info, 6, napi_uint32_array, &head, &n_head) || !Typed(info, 7, napi_int32_array, &offset, &n_offset) ||
      !Typed(info, 8, napi_uint32_array, &bits, &bits_words) ||
      !Typed(info, 11, napi_float64_array, &counts, &n_counts)) {
    return env.Undefined();
  }
  msgs = msgs_rw;
  uint8_t *receipts = nullptr;
  size_t n_receipts = 0;
  if (!info[10].IsNull() && !info[10].IsUndefined() && !Typed(info, 10, napi_uint8_array, &receipts, &n_receipts)) {
    return env.Undefined();
  }
  const size_t origins = ATOMIK_STREAM_ORIGINS;
  size_t n = msgs_len / 16;
  if (msgs_len % 16 != 0 || n_through != origins || n_highest != origins || n_next != origins || n_head != origins ||
      n_offset != origins || n_counts != 4 || window < 0 || window > UINT32_MAX ||
      (!info[10].IsNull() && !info[10].IsUndefined() && n_receipts != n)) {
    Napi::RangeError::New(env, "streamReceive: argument lengths do not match").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // The kernel reads msgs while it writes receipts and acc: memory shared between them is refused
  // (the TypeScript caller copies the messages first).
  if (Overlap(msgs, msgs_len, receipts, n_receipts) || Overlap(msgs, msgs_len, acc, contexts * sizeof(uint64_t))) {
    Napi::RangeError::New(env, "streamReceive: msgs overlaps receipts or acc").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (n == 0) return Napi::Number::New(env, ATOMIK_OK);
  atomik_delivery d = {through, highest, next, head, offset, bits, bits_words, static_cast<uint32_t>(window)};
  return Napi::Number::New(env, atomik_stream_receive(static_cast<atomik_group>(group == 1 ? 1 : 0), acc, contexts,
                                                      msgs, n, &d, receipts, counts));
}

} // namespace

void RegisterStream(Napi::Env env, Napi::Object exports) {
  exports["streamReceive"] = Napi::Function::New(env, StreamReceive, "streamReceive");
}
