// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// addon.cc: the one native module of shim6 (declared in native/index.d.ts).
// Primitives in, plain objects out. Errors carry code, errno and syscall like
// Node's own. Nothing here blocks the event loop: ring buffers are consumed
// from a uv_poll on their epoll fd.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <linux/netlink.h>
#include <linux/if_link.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <string>
#include <vector>

#include "skel.h"
#include "napi_util.h"
#include "../../bpf/shim6_consts.h"

// native/src/api.cc: the RFC 6316 API socket (ApiListener, socketInfo, apiRequest).
void ApiInit(Napi::Env env, Napi::Object exports);
void ProcInit(Napi::Env env, Napi::Object exports);

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace {

using shim6_util::ArgInt;
using shim6_util::MapInfoOf;
using shim6_util::CallSafely;
using shim6_util::ErrnoCode;
using shim6_util::ThrowErrno;
using shim6_util::ThrowType;

Napi::Buffer<uint8_t> ArgBuf(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsBuffer()) ThrowType(info.Env(), std::string(name) + " must be a Buffer");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

std::string ArgStr(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsString()) ThrowType(info.Env(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object ArgObj(const Napi::CallbackInfo &info, size_t i, const char *name) {
  if (info.Length() <= i || !info[i].IsObject()) ThrowType(info.Env(), std::string(name) + " must be an object");
  return info[i].As<Napi::Object>();
}

int PropInt(Napi::Object o, const char *k, int def, bool required = false) {
  Napi::Value v = o.Get(k);
  if (v.IsUndefined()) {
    if (required) ThrowType(o.Env(), std::string(k) + " is required");
    return def;
  }
  if (!v.IsNumber()) ThrowType(o.Env(), std::string(k) + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

struct MapShape {
  uint32_t type, key_size, value_size;
  size_t buf_size;  // value buffer size for lookups (per-CPU: rounded x ncpus)
};

MapShape Shape(Napi::Env env, int fd) {
  struct bpf_map_info info = MapInfoOf(env, fd);
  MapShape s{info.type, info.key_size, info.value_size, info.value_size};
  if (IsPerCpu(info.type)) {
    int n = libbpf_num_possible_cpus();
    if (n < 0) ThrowErrno(env, n, "libbpf_num_possible_cpus");
    s.buf_size = ((info.value_size + 7) / 8) * 8 * (size_t)n;
  }
  return s;
}

// Cookie of the calling thread's network namespace (SO_NETNS_COOKIE on a
// throwaway socket, the value bpf_get_netns_cookie() sees). 0 on error.
uint64_t CurrentNetnsCookie(int *err) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) { *err = errno; return 0; }
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  int r = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
  *err = r < 0 ? errno : 0;
  close(fd);
  return r < 0 ? 0 : cookie;
}

// ---- objects and programs --------------------------------------------------

// load({ pinDir, gsoMode, segIfindex, tcpRtoMaxMs?, tcpRtoBounded?, tcpRtoMaxDefaultMs?, netnsCookie?, xdp? }) -> { progs: {name: fd}, maps: {name: fd} }
// The fds are dup()ed from the object, which is then closed: every fd returned
// is owned by the caller (close with closeFd).
Napi::Value Load(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  Napi::Value pd = o.Get("pinDir");
  if (!pd.IsString()) ThrowType(env, "pinDir must be a string");
  std::string pin_dir = pd.As<Napi::String>().Utf8Value();
  int gso = PropInt(o, "gsoMode", 0);
  int seg_ifindex = PropInt(o, "segIfindex", 0);
  int rto_max_ms = PropInt(o, "tcpRtoMaxMs", SHIM6_TCP_RTO_MAX_MS_DEFAULT);
  int rto_bounded = PropInt(o, "tcpRtoBounded", SHIM6_TCP_RTO_BOUNDED_DEFAULT);
  int rto_max_dflt = PropInt(o, "tcpRtoMaxDefaultMs", 120000);
  if (rto_max_ms < 0 || rto_bounded < 0 || rto_max_dflt < 0) ThrowType(env, "tcpRto* must be >= 0");
  uint64_t netns_cookie;
  Napi::Value nc = o.Get("netnsCookie");
  if (nc.IsBigInt()) {
    bool lossless = true;
    netns_cookie = nc.As<Napi::BigInt>().Uint64Value(&lossless);
  } else if (nc.IsUndefined()) {
    int e = 0;
    netns_cookie = CurrentNetnsCookie(&e);
    if (e) ThrowErrno(env, e, "getsockopt(SO_NETNS_COOKIE)");
  } else {
    ThrowType(env, "netnsCookie must be a bigint");
  }
  Napi::Value xv = o.Get("xdp");
  bool xdp = xv.IsBoolean() && xv.As<Napi::Boolean>().Value();
  int err = 0;
  char where[128] = "";
  libbpf_set_print(nullptr);
  struct bpf_object *obj = shim6_skel_open_load(pin_dir.c_str(), (unsigned)gso, (unsigned)seg_ifindex, (unsigned)rto_max_ms,
                                                (unsigned)rto_bounded, (unsigned)rto_max_dflt,
                                                (unsigned long long)netns_cookie, xdp ? 1u : 0u, &err, where, sizeof(where));
  if (!obj) ThrowErrno(env, err ? err : EINVAL, where, pin_dir);
  Napi::Object progs = Napi::Object::New(env), maps = Napi::Object::New(env);
  struct bpf_program *p;
  bpf_object__for_each_program(p, obj) {
    int fd = dup(bpf_program__fd(p));
    if (fd < 0) { int e = errno; bpf_object__close(obj); ThrowErrno(env, e, "dup"); }
    progs.Set(bpf_program__name(p), Napi::Number::New(env, fd));
  }
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    const char *name = bpf_map__name(m);
    if (strchr(name, '.')) continue;
    int fd = dup(bpf_map__fd(m));
    if (fd < 0) { int e = errno; bpf_object__close(obj); ThrowErrno(env, e, "dup"); }
    maps.Set(name, Napi::Number::New(env, fd));
  }
  bpf_object__close(obj);
  Napi::Object out = Napi::Object::New(env);
  out.Set("progs", progs);
  out.Set("maps", maps);
  return out;
}

Napi::Value ObjGet(const Napi::CallbackInfo &info) {
  std::string path = ArgStr(info, 0, "path");
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) ThrowErrno(info.Env(), errno, "bpf_obj_get", path);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value ObjPin(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0, "fd");
  std::string path = ArgStr(info, 1, "path");
  if (bpf_obj_pin(fd, path.c_str()) < 0) ThrowErrno(info.Env(), errno, "bpf_obj_pin", path);
  return info.Env().Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0, "fd");
  if (close(fd) < 0) ThrowErrno(info.Env(), errno, "close");
  return info.Env().Undefined();
}

Napi::Value ProgInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  struct bpf_prog_info pi;
  memset(&pi, 0, sizeof(pi));
  uint32_t len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len) < 0) ThrowErrno(env, errno, "bpf_obj_get_info_by_fd");
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", pi.id);
  o.Set("type", pi.type);
  o.Set("name", std::string(pi.name));
  char tag[17];
  for (int i = 0; i < 8; i++) snprintf(tag + 2 * i, 3, "%02x", pi.tag[i]);
  o.Set("tag", std::string(tag));
  o.Set("runTimeNs", Napi::Number::New(env, (double)pi.run_time_ns));
  o.Set("runCount", Napi::Number::New(env, (double)pi.run_cnt));
  return o;
}

Napi::Value ProgFdById(const Napi::CallbackInfo &info) {
  int id = ArgInt(info, 0, "id");
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) ThrowErrno(info.Env(), errno, "bpf_prog_get_fd_by_id");
  return Napi::Number::New(info.Env(), fd);
}

// progTestRun(fd, { data, ctx?, repeat?, dataOutSize? }) -> { retval, data, durationNs, ctx? }
Napi::Value ProgTestRun(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  Napi::Object o = ArgObj(info, 1, "options");
  Napi::Value d = o.Get("data");
  if (!d.IsBuffer()) ThrowType(env, "data must be a Buffer");
  auto data = d.As<Napi::Buffer<uint8_t>>();
  int repeat = PropInt(o, "repeat", 1);
  int out_size = PropInt(o, "dataOutSize", (int)data.Length() + 256);
  std::vector<uint8_t> out((size_t)out_size);
  std::vector<uint8_t> ctx_out;
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = data.Data();
  opts.data_out = out.data();
  opts.data_size_in = (uint32_t)data.Length();
  opts.data_size_out = (uint32_t)out.size();
  opts.repeat = repeat;
  Napi::Value c = o.Get("ctx");
  if (c.IsBuffer()) {
    auto ctx = c.As<Napi::Buffer<uint8_t>>();
    ctx_out.resize(ctx.Length());
    opts.ctx_in = ctx.Data();
    opts.ctx_size_in = (uint32_t)ctx.Length();
    opts.ctx_out = ctx_out.data();
    opts.ctx_size_out = (uint32_t)ctx_out.size();
  } else if (!c.IsUndefined()) {
    ThrowType(env, "ctx must be a Buffer");
  }
  if (bpf_prog_test_run_opts(fd, &opts) < 0) ThrowErrno(env, errno, "bpf_prog_test_run");
  Napi::Object r = Napi::Object::New(env);
  r.Set("retval", Napi::Number::New(env, (int32_t)opts.retval));
  r.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), opts.data_size_out));
  r.Set("durationNs", Napi::Number::New(env, opts.duration));
  if (!ctx_out.empty()) r.Set("ctx", Napi::Buffer<uint8_t>::Copy(env, ctx_out.data(), opts.ctx_size_out));
  return r;
}

// ---- tc ----------------------------------------------------------------------

struct bpf_tc_hook HookFrom(Napi::Object o) {
  Napi::Env env = o.Env();
  int ifindex = PropInt(o, "ifindex", 0, true);
  Napi::Value dir = o.Get("direction");
  if (!dir.IsString()) ThrowType(env, "direction must be 'ingress' or 'egress'");
  std::string ds = dir.As<Napi::String>().Utf8Value();
  if (ds != "ingress" && ds != "egress") ThrowType(env, "direction must be 'ingress' or 'egress'");
  struct bpf_tc_hook hook;
  memset(&hook, 0, sizeof(hook));
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = ds == "ingress" ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return hook;
}

// tcAttach({ ifindex, direction, progFd, priority?, handle? })
Napi::Value TcAttach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  struct bpf_tc_hook hook = HookFrom(o);
  int err = bpf_tc_hook_create(&hook);
  if (err && err != -EEXIST) ThrowErrno(env, err, "bpf_tc_hook_create");
  LIBBPF_OPTS(bpf_tc_opts, opts);
  opts.prog_fd = PropInt(o, "progFd", -1, true);
  opts.flags = BPF_TC_F_REPLACE;
  opts.handle = (uint32_t)PropInt(o, "handle", 1);
  opts.priority = (uint32_t)PropInt(o, "priority", 1);
  err = bpf_tc_attach(&hook, &opts);
  if (err) ThrowErrno(env, err, "bpf_tc_attach");
  return Napi::Number::New(env, opts.prog_id);
}

// tcDetach({ ifindex, direction, priority?, handle? }) -> boolean (false: was not attached)
Napi::Value TcDetach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  struct bpf_tc_hook hook = HookFrom(o);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = (uint32_t)PropInt(o, "handle", 1),
              .priority = (uint32_t)PropInt(o, "priority", 1));
  int err = bpf_tc_detach(&hook, &opts);
  if (err == -ENOENT || err == -EINVAL || err == -ENODEV) return Napi::Boolean::New(env, false);
  if (err) ThrowErrno(env, err, "bpf_tc_detach");
  return Napi::Boolean::New(env, true);
}

// tcQuery({ ifindex, direction, priority?, handle? }) -> prog id or null
Napi::Value TcQuery(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  struct bpf_tc_hook hook = HookFrom(o);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = (uint32_t)PropInt(o, "handle", 1),
              .priority = (uint32_t)PropInt(o, "priority", 1));
  int err = bpf_tc_query(&hook, &opts);
  if (err == -ENOENT || err == -EINVAL || err == -ENODEV) return env.Null();
  if (err) ThrowErrno(env, err, "bpf_tc_query");
  return Napi::Number::New(env, opts.prog_id);
}

// ---- XDP ---------------------------------------------------------------------

// mode 'native' (driver) or 'generic' (skb) -> XDP_FLAGS_*
uint32_t XdpMode(Napi::Object o) {
  Napi::Env env = o.Env();
  Napi::Value m = o.Get("mode");
  std::string ms = m.IsString() ? m.As<Napi::String>().Utf8Value() : "native";
  if (ms == "native") return XDP_FLAGS_DRV_MODE;
  if (ms == "generic") return XDP_FLAGS_SKB_MODE;
  ThrowType(env, "mode must be 'native' or 'generic'");
  return 0;
}

// xdpAttach({ ifindex, progFd, mode? }) -> prog id (replaces what is there)
Napi::Value XdpAttach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  int ifindex = PropInt(o, "ifindex", 0, true);
  int fd = PropInt(o, "progFd", -1, true);
  uint32_t flags = XdpMode(o);
  int err = bpf_xdp_attach(ifindex, fd, flags, NULL);
  if (err) ThrowErrno(env, err, "bpf_xdp_attach");
  uint32_t id = 0;
  err = bpf_xdp_query_id(ifindex, flags, &id);
  if (err) ThrowErrno(env, err, "bpf_xdp_query_id");
  return Napi::Number::New(env, id);
}

// The id of the XDP program attached in that mode, 0 when none is (or the
// device is gone).
static uint32_t XdpProgId(Napi::Env env, int ifindex, uint32_t flags) {
  uint32_t id = 0;
  int err = bpf_xdp_query_id(ifindex, flags, &id);
  if (err == -ENODEV) return 0;
  if (err) ThrowErrno(env, err, "bpf_xdp_query_id");
  return id;
}

// xdpDetach({ ifindex, mode? }) -> boolean (false: nothing was attached)
Napi::Value XdpDetach(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  int ifindex = PropInt(o, "ifindex", 0, true);
  uint32_t flags = XdpMode(o);
  if (XdpProgId(env, ifindex, flags) == 0) return Napi::Boolean::New(env, false);
  int err = bpf_xdp_detach(ifindex, flags, NULL);
  if (err) ThrowErrno(env, err, "bpf_xdp_detach");
  return Napi::Boolean::New(env, true);
}

// xdpQuery({ ifindex, mode? }) -> prog id or null
Napi::Value XdpQuery(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObj(info, 0, "options");
  int ifindex = PropInt(o, "ifindex", 0, true);
  uint32_t id = XdpProgId(env, ifindex, XdpMode(o));
  return id ? Napi::Value(Napi::Number::New(env, id)) : env.Null();
}

// ---- maps --------------------------------------------------------------------

Napi::Value MapInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  struct bpf_map_info mi = MapInfoOf(env, fd);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", mi.id);
  o.Set("type", mi.type);
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("flags", mi.map_flags);
  o.Set("name", std::string(mi.name));
  o.Set("perCpu", IsPerCpu(mi.type));
  return o;
}

void CheckKey(Napi::Env env, const MapShape &s, size_t len) {
  if (len != s.key_size)
    ThrowType(env, "key must be " + std::to_string(s.key_size) + " bytes, got " + std::to_string(len));
}

// mapLookup(fd, key) -> Buffer | null. Per-CPU maps: ncpus values, each rounded to 8 bytes.
Napi::Value MapLookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  auto key = ArgBuf(info, 1, "key");
  MapShape s = Shape(env, fd);
  CheckKey(env, s, key.Length());
  std::vector<uint8_t> val(s.buf_size);
  if (bpf_map_lookup_elem(fd, key.Data(), val.data()) < 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, errno, "bpf_map_lookup_elem");
  }
  return Napi::Buffer<uint8_t>::Copy(env, val.data(), val.size());
}

// mapUpdate(fd, key, value, flags?)
Napi::Value MapUpdate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  auto key = ArgBuf(info, 1, "key");
  auto val = ArgBuf(info, 2, "value");
  uint64_t flags = info.Length() > 3 && info[3].IsNumber() ? (uint64_t)info[3].As<Napi::Number>().Int64Value() : 0;
  MapShape s = Shape(env, fd);
  if (s.type != BPF_MAP_TYPE_SK_STORAGE) CheckKey(env, s, key.Length());
  if (val.Length() != s.buf_size)
    ThrowType(env, "value must be " + std::to_string(s.buf_size) + " bytes, got " + std::to_string(val.Length()));
  if (bpf_map_update_elem(fd, key.Data(), val.Data(), flags) < 0) ThrowErrno(env, errno, "bpf_map_update_elem");
  return env.Undefined();
}

// mapDelete(fd, key) -> boolean (false: no such key)
Napi::Value MapDelete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  auto key = ArgBuf(info, 1, "key");
  if (bpf_map_delete_elem(fd, key.Data()) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "bpf_map_delete_elem");
  }
  return Napi::Boolean::New(env, true);
}

// mapKeys(fd, limit?) -> Buffer[]
Napi::Value MapKeys(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  uint32_t limit = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 1u << 24;
  MapShape s = Shape(env, fd);
  Napi::Array out = Napi::Array::New(env);
  std::vector<uint8_t> cur(s.key_size), next(s.key_size);
  bool first = true;
  uint32_t n = 0;
  while (n < limit) {
    int r = bpf_map_get_next_key(fd, first ? nullptr : cur.data(), next.data());
    if (r < 0) {
      if (errno == ENOENT) break;
      ThrowErrno(env, errno, "bpf_map_get_next_key");
    }
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, next.data(), next.size()));
    cur.swap(next);
    first = false;
  }
  return out;
}

// mapMmap(fd) -> ArrayBuffer: a read-only shared mapping of a
// BPF_F_MMAPABLE array map's values (value_size apart, key 0 first), live:
// what the programs write shows without a syscall. Unmapped when the
// ArrayBuffer is collected.
Napi::Value MapMmap(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  struct bpf_map_info mi = MapInfoOf(env, fd);
  if (mi.type != BPF_MAP_TYPE_ARRAY || !(mi.map_flags & BPF_F_MMAPABLE)) ThrowType(env, "mapMmap maps BPF_F_MMAPABLE array maps only");
  long page = sysconf(_SC_PAGESIZE);
  size_t bytes = (size_t)mi.value_size * mi.max_entries;
  size_t mapped = (bytes + (size_t)page - 1) / (size_t)page * (size_t)page;
  void *p = mmap(nullptr, mapped, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) ThrowErrno(env, errno, "mmap");
  size_t *hint = new size_t(mapped);
  return Napi::ArrayBuffer::New(env, p, bytes, [](Napi::Env, void *data, size_t *h) {
    munmap(data, *h);
    delete h;
  }, hint);
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo &info) {
  int n = libbpf_num_possible_cpus();
  if (n < 0) ThrowErrno(info.Env(), n, "libbpf_num_possible_cpus");
  return Napi::Number::New(info.Env(), n);
}

// ---- system --------------------------------------------------------------------

Napi::Value IfNameToIndex(const Napi::CallbackInfo &info) {
  std::string name = ArgStr(info, 0, "name");
  unsigned idx = if_nametoindex(name.c_str());
  if (!idx) ThrowErrno(info.Env(), errno, "if_nametoindex", name);
  return Napi::Number::New(info.Env(), idx);
}

Napi::Value IfIndexToName(const Napi::CallbackInfo &info) {
  int idx = ArgInt(info, 0, "ifindex");
  char buf[IF_NAMESIZE];
  if (!if_indextoname((unsigned)idx, buf)) ThrowErrno(info.Env(), errno, "if_indextoname");
  return Napi::String::New(info.Env(), buf);
}

Napi::Value SocketCookie(const Napi::CallbackInfo &info) {
  int fd = ArgInt(info, 0, "fd");
  uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0) ThrowErrno(info.Env(), errno, "getsockopt");
  return Napi::BigInt::New(info.Env(), cookie);
}

// netnsCookie() -> bigint: this thread's network namespace (SO_NETNS_COOKIE).
Napi::Value NetnsCookie(const Napi::CallbackInfo &info) {
  int e = 0;
  uint64_t c = CurrentNetnsCookie(&e);
  if (e) ThrowErrno(info.Env(), e, "getsockopt(SO_NETNS_COOKIE)");
  return Napi::BigInt::New(info.Env(), c);
}

// ---- cgroup v2 attachments (bpf_link) --------------------------------------------

enum bpf_attach_type CgroupAttachType(Napi::Env env, const std::string &t) {
  if (t == "sock_ops") return BPF_CGROUP_SOCK_OPS;
  ThrowType(env, "attachType must be 'sock_ops'");
}

int OpenCgroup(Napi::Env env, const std::string &path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "open", path);
  return fd;
}

// cgroupLink(cgroupPath, progFd, attachType) -> link fd. The program stays
// attached (multi-attach, like BPF_F_ALLOW_MULTI) while the link has an fd or
// a pin: unpinning the last reference detaches it.
Napi::Value CgroupLink(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = ArgStr(info, 0, "cgroupPath");
  int prog_fd = ArgInt(info, 1, "progFd");
  enum bpf_attach_type at = CgroupAttachType(env, ArgStr(info, 2, "attachType"));
  int cg = OpenCgroup(env, path);
  int fd = bpf_link_create(prog_fd, cg, at, nullptr);
  int e = errno;
  close(cg);
  if (fd < 0) ThrowErrno(env, e, "bpf_link_create", path);
  return Napi::Number::New(env, fd);
}

// linkUpdate(linkFd, progFd): swap the link's program in place.
Napi::Value LinkUpdate(const Napi::CallbackInfo &info) {
  int link_fd = ArgInt(info, 0, "linkFd");
  int prog_fd = ArgInt(info, 1, "progFd");
  if (bpf_link_update(link_fd, prog_fd, nullptr) < 0) ThrowErrno(info.Env(), errno, "bpf_link_update");
  return info.Env().Undefined();
}

// linkInfo(fd) -> { id, type, progId, cgroupId?, attachType? }
Napi::Value LinkInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  struct bpf_link_info li;
  memset(&li, 0, sizeof(li));
  uint32_t len = sizeof(li);
  if (bpf_obj_get_info_by_fd(fd, &li, &len) < 0) ThrowErrno(env, errno, "bpf_obj_get_info_by_fd");
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", li.id);
  o.Set("type", li.type);
  o.Set("progId", li.prog_id);
  if (li.type == BPF_LINK_TYPE_CGROUP) {
    o.Set("cgroupId", Napi::BigInt::New(env, (uint64_t)li.cgroup.cgroup_id));
    o.Set("attachType", li.cgroup.attach_type);
  }
  return o;
}

// cgroupQuery(cgroupPath, attachType) -> ids of the programs attached there
// (not inherited ones).
Napi::Value CgroupQuery(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = ArgStr(info, 0, "cgroupPath");
  enum bpf_attach_type at = CgroupAttachType(env, ArgStr(info, 1, "attachType"));
  int cg = OpenCgroup(env, path);
  std::vector<uint32_t> ids(256);
  uint32_t cnt = ids.size(), flags = 0;
  int r = bpf_prog_query(cg, at, 0, &flags, ids.data(), &cnt);
  int e = errno;
  close(cg);
  if (r < 0) ThrowErrno(env, e, "bpf_prog_query", path);
  Napi::Array out = Napi::Array::New(env, cnt);
  for (uint32_t i = 0; i < cnt; i++) out.Set(i, Napi::Number::New(env, ids[i]));
  return out;
}

// ensureBpffs(path): mount a bpffs at path unless one is there already.
Napi::Value EnsureBpffs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = ArgStr(info, 0, "path");
  struct statfs st;
  if (statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC) return Napi::Boolean::New(env, false);
  if (mkdir(path.c_str(), 0700) < 0 && errno != EEXIST) ThrowErrno(env, errno, "mkdir", path);
  if (mount("bpf", path.c_str(), "bpf", 0, "mode=0700") < 0) ThrowErrno(env, errno, "mount", path);
  return Napi::Boolean::New(env, true);
}

// ---- ring buffer -------------------------------------------------------------------

class RingBuffer : public Napi::ObjectWrap<RingBuffer> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "RingBuffer", {InstanceMethod("close", &RingBuffer::Close),
                                           InstanceMethod("consume", &RingBuffer::Consume)});
  }

  // new RingBuffer(mapFd, callback(Buffer))
  RingBuffer(const Napi::CallbackInfo &info) : Napi::ObjectWrap<RingBuffer>(info) {
    Napi::Env env = info.Env();
    int fd = ArgInt(info, 0, "mapFd");
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "callback must be a function");
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "shim6:ringbuf");
    rb_ = ring_buffer__new(fd, &RingBuffer::OnSample, this, nullptr);
    if (!rb_) ThrowErrno(env, errno, "ring_buffer__new");
    uv_loop_t *loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (int e = uv_poll_init(loop, poll_, ring_buffer__epoll_fd(rb_))) {
      delete poll_;
      poll_ = nullptr;
      ring_buffer__free(rb_);
      rb_ = nullptr;
      ThrowErrno(env, -e, "uv_poll_init");
    }
    uv_poll_start(poll_, UV_READABLE, &RingBuffer::OnReadable);
    Ref();  // alive while polling
  }

  ~RingBuffer() { Stop(); }

 private:
  static int OnSample(void *self, void *data, size_t size) {
    auto *rb = static_cast<RingBuffer *>(self);
    Napi::Env env = rb->Env();
    Napi::HandleScope scope(env);
    CallSafely(env, rb->cb_, {Napi::Buffer<uint8_t>::Copy(env, (uint8_t *)data, size)}, *rb->ctx_);
    return 0;
  }

  static void OnReadable(uv_poll_t *h, int status, int events) {
    auto *rb = static_cast<RingBuffer *>(h->data);
    if (status < 0 || !rb->rb_) return;
    ring_buffer__consume(rb->rb_);
  }

  void Stop() {
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
      poll_ = nullptr;
    }
    if (rb_) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
    }
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    bool was = rb_ != nullptr;
    Stop();
    if (was) Unref();
    return info.Env().Undefined();
  }

  // consume() -> number of records (for tests that want to drain now)
  Napi::Value Consume(const Napi::CallbackInfo &info) {
    if (!rb_) return Napi::Number::New(info.Env(), 0);
    int n = ring_buffer__consume(rb_);
    if (n < 0) ThrowErrno(info.Env(), n, "ring_buffer__consume");
    return Napi::Number::New(info.Env(), n);
  }

  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  struct ring_buffer *rb_ = nullptr;
  uv_poll_t *poll_ = nullptr;
};

// ---- datagram sockets ----------------------------------------------------------------
// Raw IPv6 sockets (Shim6 protocol 140, ICMPv6 errors) and rtnetlink: Node has
// neither. Non-blocking; a uv_poll drains every queued datagram when readable
// and hands each to the callback as { data, src, dst, ifindex }.

class Socket : public Napi::ObjectWrap<Socket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Socket", {InstanceMethod("send", &Socket::Send),
                                       InstanceMethod("close", &Socket::Close),
                                       InstanceMethod("fd", &Socket::Fd)});
  }

  // new Socket(kind: 'raw6' | 'netlink', protocol, onMessage, opts?)
  // opts: { mark?, icmp6Pass?: number[], groups? (netlink multicast groups), rcvbuf? }
  Socket(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Socket>(info) {
    Napi::Env env = info.Env();
    std::string kind = ArgStr(info, 0, "kind");
    int proto = ArgInt(info, 1, "protocol");
    if (info.Length() < 3 || !info[2].IsFunction()) ThrowType(env, "onMessage must be a function");
    Napi::Object opts = info.Length() > 3 && info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    if (kind == "raw6") {
      netlink_ = false;
      fd_ = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
      if (fd_ < 0) ThrowErrno(env, errno, "socket");
      int one = 1;
      if (setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0) Fail(env, "setsockopt(IPV6_RECVPKTINFO)");
      if (opts.Has("mark") && opts.Get("mark").IsNumber()) {
        uint32_t mark = opts.Get("mark").As<Napi::Number>().Uint32Value();
        if (setsockopt(fd_, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) Fail(env, "setsockopt(SO_MARK)");
      }
      if (opts.Has("icmp6Pass") && opts.Get("icmp6Pass").IsArray()) {
        if (proto != IPPROTO_ICMPV6) { Cleanup(); ThrowType(env, "icmp6Pass needs protocol 58"); }
        Napi::Array a = opts.Get("icmp6Pass").As<Napi::Array>();
        struct icmp6_filter f;
        ICMP6_FILTER_SETBLOCKALL(&f);
        for (uint32_t i = 0; i < a.Length(); i++) {
          Napi::Value v = a.Get(i);
          if (!v.IsNumber()) { Cleanup(); ThrowType(env, "icmp6Pass must hold ICMPv6 types"); }
          ICMP6_FILTER_SETPASS(v.As<Napi::Number>().Uint32Value() & 0xff, &f);
        }
        if (setsockopt(fd_, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0) Fail(env, "setsockopt(ICMP6_FILTER)");
      }
    } else if (kind == "netlink") {
      netlink_ = true;
      fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
      if (fd_ < 0) ThrowErrno(env, errno, "socket");
      struct sockaddr_nl sa;
      memset(&sa, 0, sizeof(sa));
      sa.nl_family = AF_NETLINK;
      sa.nl_groups = opts.Has("groups") && opts.Get("groups").IsNumber() ? opts.Get("groups").As<Napi::Number>().Uint32Value() : 0;
      if (bind(fd_, (struct sockaddr *)&sa, sizeof(sa)) < 0) Fail(env, "bind");
    } else {
      ThrowType(env, "kind must be 'raw6' or 'netlink'");
    }
    if (opts.Has("rcvbuf") && opts.Get("rcvbuf").IsNumber()) {
      int sz = opts.Get("rcvbuf").As<Napi::Number>().Int32Value();
      if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0) Fail(env, "setsockopt(SO_RCVBUF)");
    }
    cb_ = Napi::Persistent(info[2].As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "shim6:socket");
    uv_loop_t *loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (int e = uv_poll_init(loop, poll_, fd_)) {
      delete poll_;
      poll_ = nullptr;
      Cleanup();
      ThrowErrno(env, -e, "uv_poll_init");
    }
    uv_poll_start(poll_, UV_READABLE, &Socket::OnReadable);
    Ref();  // alive while open
  }

  ~Socket() { Stop(); }

 private:
  [[noreturn]] void Fail(Napi::Env env, const char *what) {
    int e = errno;
    Cleanup();
    ThrowErrno(env, e, what);
  }

  void Cleanup() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  static void OnReadable(uv_poll_t *h, int status, int) {
    auto *s = static_cast<Socket *>(h->data);
    if (status < 0 || s->fd_ < 0) return;
    s->Drain();
  }

  // Read every queued datagram (bounded per wake-up so one busy socket cannot
  // starve the loop) and deliver each one.
  void Drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    std::vector<uint8_t> buf(netlink_ ? 1 << 16 : 1 << 16);
    for (int n = 0; n < 256 && fd_ >= 0; n++) {
      struct sockaddr_in6 from;
      char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + 64];
      struct iovec iov = {buf.data(), buf.size()};
      struct msghdr mh;
      memset(&mh, 0, sizeof(mh));
      mh.msg_name = &from;
      mh.msg_namelen = sizeof(from);
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = cbuf;
      mh.msg_controllen = sizeof(cbuf);
      ssize_t r = recvmsg(fd_, &mh, MSG_DONTWAIT);
      if (r < 0) {
        int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN || e == EWOULDBLOCK) return;
        // ENOBUFS on netlink: events were lost; tell the caller so it resyncs.
        Napi::Object m = Napi::Object::New(env);
        m.Set("error", Napi::String::New(env, ErrnoCode(e)));
        CallSafely(env, cb_, {m}, *ctx_);
        if (e != ENOBUFS) return;
        continue;
      }
      Napi::Object m = Napi::Object::New(env);
      size_t len = (size_t)r > buf.size() ? buf.size() : (size_t)r;
      m.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf.data(), len));
      if (mh.msg_flags & MSG_TRUNC) m.Set("truncated", Napi::Boolean::New(env, true));
      if (!netlink_) {
        m.Set("src", Napi::Buffer<uint8_t>::Copy(env, from.sin6_addr.s6_addr, 16));
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
          if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            m.Set("dst", Napi::Buffer<uint8_t>::Copy(env, pi.ipi6_addr.s6_addr, 16));
            m.Set("ifindex", Napi::Number::New(env, pi.ipi6_ifindex));
          }
        }
      }
      CallSafely(env, cb_, {m}, *ctx_);
    }
  }

  void Stop() {
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
      poll_ = nullptr;
    }
    Cleanup();
  }

  // send(data, dst?: Buffer(16), src?: Buffer(16)) -> bytes sent.
  // raw6: dst is required; src (when given) is the source address (IPV6_PKTINFO).
  // netlink: to the kernel; dst and src are ignored.
  Napi::Value Send(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) ThrowErrno(env, EBADF, "sendmsg");
    auto data = ArgBuf(info, 0, "data");
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    struct iovec iov = {data.Data(), data.Length()};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    struct sockaddr_nl nl;
    struct sockaddr_in6 to;
    char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    if (netlink_) {
      memset(&nl, 0, sizeof(nl));
      nl.nl_family = AF_NETLINK;
      mh.msg_name = &nl;
      mh.msg_namelen = sizeof(nl);
    } else {
      auto dst = ArgBuf(info, 1, "dst");
      if (dst.Length() != 16) ThrowType(env, "dst must be 16 bytes");
      memset(&to, 0, sizeof(to));
      to.sin6_family = AF_INET6;
      memcpy(to.sin6_addr.s6_addr, dst.Data(), 16);
      mh.msg_name = &to;
      mh.msg_namelen = sizeof(to);
      if (info.Length() > 2 && info[2].IsBuffer()) {
        auto src = info[2].As<Napi::Buffer<uint8_t>>();
        if (src.Length() != 16) ThrowType(env, "src must be 16 bytes");
        memset(cbuf, 0, sizeof(cbuf));
        mh.msg_control = cbuf;
        mh.msg_controllen = sizeof(cbuf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        memcpy(pi.ipi6_addr.s6_addr, src.Data(), 16);
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
      }
    }
    ssize_t r;
    do r = sendmsg(fd_, &mh, MSG_DONTWAIT); while (r < 0 && errno == EINTR);
    if (r < 0) ThrowErrno(env, errno, "sendmsg");
    return Napi::Number::New(env, (double)r);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    bool was = fd_ >= 0;
    Stop();
    if (was) Unref();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_); }

  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
  uv_poll_t *poll_ = nullptr;
  int fd_ = -1;
  bool netlink_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("objGet", Napi::Function::New(env, ObjGet));
  exports.Set("objPin", Napi::Function::New(env, ObjPin));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("progInfo", Napi::Function::New(env, ProgInfo));
  exports.Set("progFdById", Napi::Function::New(env, ProgFdById));
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun));
  exports.Set("tcAttach", Napi::Function::New(env, TcAttach));
  exports.Set("tcDetach", Napi::Function::New(env, TcDetach));
  exports.Set("tcQuery", Napi::Function::New(env, TcQuery));
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach));
  exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery));
  exports.Set("mapInfo", Napi::Function::New(env, MapInfo));
  exports.Set("mapLookup", Napi::Function::New(env, MapLookup));
  exports.Set("mapUpdate", Napi::Function::New(env, MapUpdate));
  exports.Set("mapDelete", Napi::Function::New(env, MapDelete));
  exports.Set("mapKeys", Napi::Function::New(env, MapKeys));
  exports.Set("mapMmap", Napi::Function::New(env, MapMmap));
  exports.Set("numPossibleCpus", Napi::Function::New(env, NumPossibleCpus));
  exports.Set("ifNameToIndex", Napi::Function::New(env, IfNameToIndex));
  exports.Set("ifIndexToName", Napi::Function::New(env, IfIndexToName));
  exports.Set("socketCookie", Napi::Function::New(env, SocketCookie));
  exports.Set("ensureBpffs", Napi::Function::New(env, EnsureBpffs));
  exports.Set("netnsCookie", Napi::Function::New(env, NetnsCookie));
  exports.Set("cgroupLink", Napi::Function::New(env, CgroupLink));
  exports.Set("linkUpdate", Napi::Function::New(env, LinkUpdate));
  exports.Set("linkInfo", Napi::Function::New(env, LinkInfo));
  exports.Set("cgroupQuery", Napi::Function::New(env, CgroupQuery));
  exports.Set("RingBuffer", RingBuffer::Init(env));
  exports.Set("Socket", Socket::Init(env));
  ApiInit(env, exports);
  ProcInit(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(shim6, Init)
