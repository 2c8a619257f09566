// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// napi_util.h: what every source file of the addon throws and checks, defined
// once. Errors are shaped like Node's own system errors (code, errno,
// syscall); bad arguments are TypeErrors with code ERR_INVALID_ARG_TYPE;
// callbacks run from libuv never let a JS exception reach C++.
#ifndef SHIM6_NAPI_UTIL_H
#define SHIM6_NAPI_UTIL_H

#include <napi.h>
#include <uv.h>
#include <bpf/bpf.h>

#include <errno.h>
#include <string.h>

#include <string>
#include <vector>

namespace shim6_util {

// The same names Node gives system errors (libuv's table).
inline const char *ErrnoCode(int e) { return uv_err_name(-e); }

inline Napi::Error ErrnoError(Napi::Env env, int err, const std::string &syscall, const std::string &detail = "") {
  if (err < 0) err = -err;
  std::string msg = std::string(ErrnoCode(err)) + ": " + strerror(err) + ", " + syscall;
  if (!detail.empty()) msg += " '" + detail + "'";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoCode(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

[[noreturn]] inline void ThrowErrno(Napi::Env env, int err, const std::string &syscall, const std::string &detail = "") {
  throw ErrnoError(env, err, syscall, detail);
}

[[noreturn]] inline void ThrowType(Napi::Env env, const std::string &msg) {
  Napi::TypeError e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw e;
}

inline int ArgInt(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsNumber()) ThrowType(info.Env(), std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

// What the kernel says of a BPF map fd (type, sizes, flags, id); throws
// like a failed syscall.
inline struct bpf_map_info MapInfoOf(Napi::Env env, int fd) {
  struct bpf_map_info mi;
  memset(&mi, 0, sizeof(mi));
  uint32_t len = sizeof(mi);
  if (bpf_obj_get_info_by_fd(fd, &mi, &len) < 0) ThrowErrno(env, errno, "bpf_obj_get_info_by_fd");
  return mi;
}

// Call a JS callback from a libuv callback. An exception thrown by it has no
// JS frame to unwind to: hand it to Node as an uncaught exception (the
// process's 'uncaughtException' handler decides), never let it reach C++.
inline void CallSafely(Napi::Env env, Napi::FunctionReference &cb, const std::vector<napi_value> &args, Napi::AsyncContext &ctx) {
  try {
    cb.MakeCallback(env.Global(), args, ctx);
  } catch (const Napi::Error &e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace shim6_util

#endif
