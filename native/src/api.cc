// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// api.cc: the native side of the RFC 6316 API socket (src/api/README.md).
// Node can neither receive nor send SCM_RIGHTS, so this file gives it:
//   ApiListener   a SOCK_SEQPACKET Unix listener: accept, per-connection
//                 recvmsg with SCM_RIGHTS (uv_poll), SO_PEERCRED, send, close
//   socketInfo    what an fd is: cookie, family/type/protocol, addresses,
//                 connected/listening, TCP state
//   apiRequest    one request with fds passed, reply awaited off the event
//                 loop (the TypeScript client's transport)
//   ApiListener.Connection
//                 a client connection that stays open: send with SCM_RIGHTS,
//                 every message received delivered to a callback (uv_poll);
//                 the TypeScript client's SUBSCRIBE. A static member of
//                 ApiListener so the addon's export list stays as declared.
// Declared in native/index.d.ts. Errors carry code, errno and syscall like
// Node's own.
#include <napi.h>
#include <uv.h>
#include <bpf/bpf.h>

#include "napi_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

namespace shim6_api {

constexpr size_t kMaxRecv = 65536;  // bigger than any valid frame: oversize is seen, not cut silently
constexpr int kMaxFds = 8;          // fds accepted per message (more: MSG_CTRUNC, reported)

using shim6_util::ArgInt;
using shim6_util::MapInfoOf;
using shim6_util::CallSafely;
using shim6_util::ErrnoError;
using shim6_util::ThrowErrno;
using shim6_util::ThrowType;

bool FillSunPath(struct sockaddr_un &sa, const std::string &path) {
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) return false;
  memcpy(sa.sun_path, path.data(), path.size());
  return true;
}

// ---- socketInfo ------------------------------------------------------------------

// A sockaddr as { family: 'IPv6'|'IPv4', address, port, addr: Buffer(16) (IPv4 as ::ffff:a.b.c.d), scopeId? }.
Napi::Value AddrObject(Napi::Env env, const struct sockaddr_storage &ss, socklen_t len) {
  Napi::Object o = Napi::Object::New(env);
  char text[INET6_ADDRSTRLEN] = "";
  uint8_t addr[16] = {0};
  if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    auto *s6 = reinterpret_cast<const struct sockaddr_in6 *>(&ss);
    inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof(text));
    memcpy(addr, s6->sin6_addr.s6_addr, 16);
    o.Set("family", "IPv6");
    o.Set("port", ntohs(s6->sin6_port));
    o.Set("scopeId", s6->sin6_scope_id);
  } else if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    auto *s4 = reinterpret_cast<const struct sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text));
    addr[10] = addr[11] = 0xff;
    memcpy(addr + 12, &s4->sin_addr, 4);
    o.Set("family", "IPv4");
    o.Set("port", ntohs(s4->sin_port));
  } else {
    return env.Null();
  }
  o.Set("address", text);
  o.Set("addr", Napi::Buffer<uint8_t>::Copy(env, addr, 16));
  return o;
}

int SockOptInt(int fd, int level, int name, int *out) {
  socklen_t len = sizeof(*out);
  return getsockopt(fd, level, name, out, &len);
}

// Type and protocol never change in a socket's life, and a cookie names one
// socket for the whole boot: the raw form below reads them once per socket.
struct SockFacts {
  int type;
  int protocol;
};
std::mutex facts_mu;
std::unordered_map<uint64_t, SockFacts> facts;
constexpr size_t kMaxFacts = 65536;  // then start over (a socket costs 2 syscalls more once)

// Raw layout of socketInfo(fd, out) (src/api/server.ts decodes it):
//   0 u64 cookie   8 i32 family   12 i32 type   16 i32 protocol   20 i32 reserved
//   24 u32 flags: 1 connected, 2 listening, 4 local, 8 peer, 16 local IPv4, 32 peer IPv4
//   28 u16 local port   30 u16 peer port   32 u32 local scope   36 u32 peer scope
//   40 local addr[16] (IPv4 as ::ffff:a.b.c.d)   56 peer addr[16]
constexpr size_t kRawInfoSize = 72;
// ApiListener's ev.info: the raw info, a policy state, struct shim6_sock_policy.
constexpr uint32_t kSockPolicySize = 40;  // bpf/shim6_types.h (_Static_assert there)
constexpr size_t kIdentSize = 80 + kSockPolicySize;
enum : uint32_t { kConnected = 1, kListening = 2, kLocal = 4, kPeer = 8, kLocal4 = 16, kPeer4 = 32 };

// Fill one address: flags for present / IPv4, port, scope, 16 bytes.
void RawAddr(uint8_t *out, const struct sockaddr_storage &ss, socklen_t len, uint32_t *flags, uint32_t present, uint32_t v4,
             size_t port_off, size_t scope_off, size_t addr_off) {
  uint16_t port = 0;
  uint32_t scope = 0;
  uint8_t addr[16] = {0};
  if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    auto *s6 = reinterpret_cast<const struct sockaddr_in6 *>(&ss);
    memcpy(addr, s6->sin6_addr.s6_addr, 16);
    port = ntohs(s6->sin6_port);
    scope = s6->sin6_scope_id;
    *flags |= present;
  } else if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    auto *s4 = reinterpret_cast<const struct sockaddr_in *>(&ss);
    addr[10] = addr[11] = 0xff;
    memcpy(addr + 12, &s4->sin_addr, 4);
    port = ntohs(s4->sin_port);
    *flags |= present | v4;
  }
  memcpy(out + port_off, &port, 2);
  memcpy(out + scope_off, &scope, 4);
  memcpy(out + addr_off, addr, 16);
}

// RawIdentify(fd, out): the facts of socketInfo(fd, out) into out (>= 72
// bytes, layout above), without JS objects, the TCP state, or SO_ACCEPTCONN
// on a connected socket (it cannot be listening): 3 syscalls for a socket
// seen before, instead of 8. Returns 0, or an errno with *what naming the
// call that failed (the option for getsockopt).
int RawIdentify(int fd, uint8_t *o, const char **syscall, const char **what) {
  uint64_t cookie = 0;
  socklen_t clen = sizeof(cookie);
  *syscall = "getsockopt";
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &clen) < 0) return *what = "SO_COOKIE", errno;
  SockFacts f;
  bool known;
  {
    std::lock_guard<std::mutex> g(facts_mu);
    auto it = facts.find(cookie);
    known = it != facts.end();
    if (known) f = it->second;
  }
  if (!known) {
    if (SockOptInt(fd, SOL_SOCKET, SO_TYPE, &f.type) < 0) return *what = "SO_TYPE", errno;
    if (SockOptInt(fd, SOL_SOCKET, SO_PROTOCOL, &f.protocol) < 0) return *what = "SO_PROTOCOL", errno;
    std::lock_guard<std::mutex> g(facts_mu);
    if (facts.size() >= kMaxFacts) facts.clear();
    facts.emplace(cookie, f);
  }
  uint32_t flags = 0;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  int family = 0;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
    family = ss.ss_family;
  } else if (SockOptInt(fd, SOL_SOCKET, SO_DOMAIN, &family) < 0) {
    return *what = "SO_DOMAIN", errno;
  }
  RawAddr(o, ss, len, &flags, kLocal, kLocal4, 28, 32, 40);
  len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
    flags |= kConnected;
  } else {
    len = 0;
    int accepting = 0;
    if (SockOptInt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting) == 0 && accepting) flags |= kListening;
  }
  RawAddr(o, ss, len, &flags, kPeer, kPeer4, 30, 36, 56);
  int32_t reserved = 0;
  memcpy(o + 0, &cookie, 8);
  memcpy(o + 8, &family, 4);
  memcpy(o + 12, &f.type, 4);
  memcpy(o + 16, &f.protocol, 4);
  memcpy(o + 20, &reserved, 4);
  memcpy(o + 24, &flags, 4);
  return 0;
}

// socketInfo(fd, out): RawIdentify into a Uint8Array; errors thrown as Node's.
Napi::Value SocketInfoRaw(const Napi::CallbackInfo &info, int fd) {
  Napi::Env env = info.Env();
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) ThrowType(env, "out must be a Uint8Array");
  auto out = info[1].As<Napi::Uint8Array>();
  if (out.ByteLength() < kRawInfoSize) ThrowType(env, "out must hold 72 bytes");
  const char *syscall = "", *what = "";
  if (int e = RawIdentify(fd, out.Data(), &syscall, &what)) ThrowErrno(env, e, syscall, what);
  return env.Undefined();
}

// socketInfo(fd) -> { cookie, family, type, protocol, local, peer, connected, listening, tcpState }
// socketInfo(fd, out: Uint8Array) -> undefined: the raw form above.
Napi::Value SocketInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = ArgInt(info, 0, "fd");
  if (info.Length() > 1 && !info[1].IsUndefined()) return SocketInfoRaw(info, fd);
  int type = 0, family = 0, protocol = 0, accepting = 0;
  if (SockOptInt(fd, SOL_SOCKET, SO_TYPE, &type) < 0) ThrowErrno(env, errno, "getsockopt", "SO_TYPE");
  if (SockOptInt(fd, SOL_SOCKET, SO_DOMAIN, &family) < 0) ThrowErrno(env, errno, "getsockopt", "SO_DOMAIN");
  if (SockOptInt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol) < 0) ThrowErrno(env, errno, "getsockopt", "SO_PROTOCOL");
  if (SockOptInt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting) < 0) accepting = 0;
  uint64_t cookie = 0;
  socklen_t clen = sizeof(cookie);
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &clen) < 0) ThrowErrno(env, errno, "getsockopt", "SO_COOKIE");
  Napi::Object o = Napi::Object::New(env);
  o.Set("cookie", Napi::BigInt::New(env, cookie));
  o.Set("family", family);
  o.Set("type", type);
  o.Set("protocol", protocol);
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  o.Set("local", getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? AddrObject(env, ss, len) : env.Null());
  len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  // getpeername succeeds exactly for connected sockets: TCP past the
  // handshake (not SYN-SENT), UDP after connect().
  bool connected = getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
  o.Set("peer", connected ? AddrObject(env, ss, len) : env.Null());
  o.Set("connected", connected);
  o.Set("listening", accepting != 0);
  if ((family == AF_INET || family == AF_INET6) && type == SOCK_STREAM) {
    struct tcp_info ti;
    socklen_t tlen = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0) o.Set("tcpState", ti.tcpi_state);
    else o.Set("tcpState", env.Null());
  } else {
    o.Set("tcpState", env.Null());
  }
  return o;
}

// ---- ApiConnection ---------------------------------------------------------------

// sendmsg of one message with fds (SCM_RIGHTS), non-blocking. Returns bytes or -errno.
ssize_t SendWithFds(int fd, const uint8_t *data, size_t len, const std::vector<int> &fds, int flags) {
  struct iovec iov = {const_cast<uint8_t *>(data), len};
  struct msghdr mh;
  memset(&mh, 0, sizeof(mh));
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> cbuf;
  if (!fds.empty()) {
    cbuf.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    mh.msg_control = cbuf.data();
    mh.msg_controllen = cbuf.size();
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cm), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t r;
  do r = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

std::vector<int> FdArray(Napi::Env env, Napi::Value v) {
  std::vector<int> fds;
  if (v.IsUndefined() || v.IsNull()) return fds;
  if (!v.IsArray()) ThrowType(env, "fds must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > (uint32_t)kMaxFds) ThrowType(env, "at most 8 fds");
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value x = a.Get(i);
    if (!x.IsNumber()) ThrowType(env, "fds must be an array of numbers");
    fds.push_back(x.As<Napi::Number>().Int32Value());
  }
  return fds;
}

// new ApiListener.Connection(path, onMessage): connected at once (ECONNREFUSED,
// ENOENT... thrown). onMessage({ data }) per message, then once
// onMessage({ closed: true, error? }) when the server ends it. Keeps the
// event loop alive until close() (or unref()).
class ApiConnection : public Napi::ObjectWrap<ApiConnection> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "ApiConnection", {InstanceMethod("send", &ApiConnection::Send),
                                              InstanceMethod("close", &ApiConnection::Close),
                                              InstanceMethod("ref", &ApiConnection::RefLoop),
                                              InstanceMethod("unref", &ApiConnection::UnrefLoop),
                                              InstanceMethod("fd", &ApiConnection::Fd)});
  }

  ApiConnection(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ApiConnection>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "path must be a string");
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "onMessage must be a function");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    struct sockaddr_un sa;
    if (!FillSunPath(sa, path)) ThrowErrno(env, ENAMETOOLONG, "connect", path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) ThrowErrno(env, errno, "socket");
    int r;
    do r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int e = errno;
      close(s);
      ThrowErrno(env, e, "connect", path);
    }
    int fl = fcntl(s, F_GETFL);
    if (fl < 0 || fcntl(s, F_SETFL, fl | O_NONBLOCK) < 0) {
      int e = errno;
      close(s);
      ThrowErrno(env, e, "fcntl");
    }
    napi_get_uv_event_loop(env, &loop_);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (int e = uv_poll_init(loop_, poll_, s)) {
      delete poll_;
      poll_ = nullptr;
      close(s);
      ThrowErrno(env, -e, "uv_poll_init");
    }
    fd_ = s;
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "shim6:api:conn");
    buf_.resize(kMaxRecv);
    uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, &ApiConnection::OnReadable);
    Ref();  // alive while open
  }

  ~ApiConnection() { Stop(); }

 private:
  static void OnReadable(uv_poll_t *h, int status, int) { static_cast<ApiConnection *>(h->data)->Drain(status); }

  void Drain(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (int n = 0; n < 64 && fd_ >= 0; n++) {
      ssize_t r = recv(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && status >= 0) return;
      Napi::Object ev = Napi::Object::New(env);
      if (r <= 0) {
        if (r < 0) ev.Set("error", uv_err_name(-(errno == EAGAIN ? ECONNRESET : errno)));
        ev.Set("closed", true);
        Shut();
        CallSafely(env, cb_, {ev}, *ctx_);
        return;
      }
      size_t len = (size_t)r > buf_.size() ? buf_.size() : (size_t)r;
      ev.Set("data", Napi::Buffer<uint8_t>::Copy(env, buf_.data(), len));
      if ((size_t)r > buf_.size()) ev.Set("truncated", true);
      CallSafely(env, cb_, {ev}, *ctx_);
    }
  }

  void Stop() {
    if (poll_) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t *>(poll_), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // Stop, and let go of the object once.
  void Shut() {
    bool was = fd_ >= 0;
    Stop();
    if (was) Unref();
  }

  // send(data, fds?) -> bytes sent. Throws (EAGAIN: the server does not read; EPIPE/ENOTCONN: gone).
  Napi::Value Send(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) ThrowType(env, "data must be a Buffer");
    auto data = info[0].As<Napi::Buffer<uint8_t>>();
    std::vector<int> fds = FdArray(env, info.Length() > 1 ? info[1] : env.Undefined());
    if (fd_ < 0) ThrowErrno(env, ENOTCONN, "send");
    ssize_t r = SendWithFds(fd_, data.Data(), data.Length(), fds, MSG_DONTWAIT);
    if (r < 0) ThrowErrno(env, (int)-r, "sendmsg");
    return Napi::Number::New(env, (double)r);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    Shut();
    return info.Env().Undefined();
  }

  Napi::Value RefLoop(const Napi::CallbackInfo &info) {
    if (poll_) uv_ref(reinterpret_cast<uv_handle_t *>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value UnrefLoop(const Napi::CallbackInfo &info) {
    if (poll_) uv_unref(reinterpret_cast<uv_handle_t *>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_); }

  int fd_ = -1;
  uv_loop_t *loop_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  std::vector<uint8_t> buf_;
  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
};

// ---- ApiListener -------------------------------------------------------------------

class ApiListener : public Napi::ObjectWrap<ApiListener> {
 public:
  static Napi::Function Init(Napi::Env env) {
    Napi::Function conn = ApiConnection::Init(env);
    return DefineClass(env, "ApiListener", {InstanceMethod("send", &ApiListener::Send),
                                            InstanceMethod("reply", &ApiListener::Reply),
                                            InstanceMethod("setSockMap", &ApiListener::SetSockMap),
                                            InstanceMethod("closeConn", &ApiListener::CloseConn),
                                            InstanceMethod("close", &ApiListener::Close),
                                            InstanceMethod("fd", &ApiListener::Fd),
                                            StaticValue("Connection", conn, napi_default)});
  }

  // new ApiListener({ path, mode?, group?, backlog? }, onEvent)
  ApiListener(const Napi::CallbackInfo &info) : Napi::ObjectWrap<ApiListener>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) ThrowType(env, "options must be an object");
    Napi::Object o = info[0].As<Napi::Object>();
    if (info.Length() < 2 || !info[1].IsFunction()) ThrowType(env, "onEvent must be a function");
    Napi::Value p = o.Get("path");
    if (!p.IsString()) ThrowType(env, "path must be a string");
    path_ = p.As<Napi::String>().Utf8Value();
    Napi::Value m = o.Get("mode");
    if (!m.IsUndefined() && !m.IsNumber()) ThrowType(env, "mode must be a number");
    int mode = m.IsNumber() ? m.As<Napi::Number>().Int32Value() : 0660;
    Napi::Value bl = o.Get("backlog");
    int backlog = bl.IsNumber() ? bl.As<Napi::Number>().Int32Value() : 128;
    gid_t gid = (gid_t)-1;
    Napi::Value g = o.Get("group");
    if (g.IsNumber()) {
      gid = (gid_t)g.As<Napi::Number>().Uint32Value();
    } else if (g.IsString()) {
      std::string name = g.As<Napi::String>().Utf8Value();
      struct group gr, *res = nullptr;
      std::vector<char> buf(16384);
      int e = getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res);
      if (e || !res) ThrowErrno(env, e ? e : ENOENT, "getgrnam_r", name);
      gid = res->gr_gid;
    } else if (!g.IsUndefined() && !g.IsNull()) {
      ThrowType(env, "group must be a gid or a group name");
    }
    struct sockaddr_un sa;
    if (!FillSunPath(sa, path_)) ThrowErrno(env, ENAMETOOLONG, "bind", path_);
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) ThrowErrno(env, errno, "socket");
    if (bind(fd_, (struct sockaddr *)&sa, sizeof(sa)) < 0) Fail(env, "bind", false);
    bound_ = true;
    if (chmod(path_.c_str(), (mode_t)mode) < 0) Fail(env, "chmod", true);
    if (gid != (gid_t)-1 && chown(path_.c_str(), (uid_t)-1, gid) < 0) Fail(env, "chown", true);
    if (listen(fd_, backlog) < 0) Fail(env, "listen", true);
    cb_ = Napi::Persistent(info[1].As<Napi::Function>());
    ctx_ = std::make_unique<Napi::AsyncContext>(env, "shim6:api");
    napi_get_uv_event_loop(env, &loop_);
    poll_ = new uv_poll_t;
    poll_->data = this;
    if (int e = uv_poll_init(loop_, poll_, fd_)) {
      delete poll_;
      poll_ = nullptr;
      errno = -e;
      Fail(env, "uv_poll_init", true);
    }
    uv_poll_start(poll_, UV_READABLE, &ApiListener::OnAcceptable);
    Ref();  // alive while listening
  }

  ~ApiListener() { Stop(); }

 private:
  struct Conn {
    ApiListener *self;
    uint32_t id;
    int fd;
    uv_poll_t *poll;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    Napi::ObjectReference cred;  // made on the first message
  };

  [[noreturn]] void Fail(Napi::Env env, const char *what, bool unlink_path) {
    int e = errno;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (unlink_path) unlink(path_.c_str());
    bound_ = false;
    ThrowErrno(env, e, what, path_);
  }

  static void ClosePoll(uv_poll_t *p) {
    uv_poll_stop(p);
    uv_close(reinterpret_cast<uv_handle_t *>(p), [](uv_handle_t *h) { delete reinterpret_cast<uv_poll_t *>(h); });
  }

  static void OnAcceptable(uv_poll_t *h, int status, int) {
    auto *self = static_cast<ApiListener *>(h->data);
    if (status < 0 || self->fd_ < 0) return;
    for (int n = 0; n < 64; n++) {
      int c = accept4(self->fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR) continue;
        return;  // EAGAIN, or a transient error (EMFILE, ECONNABORTED): try again on the next wake-up
      }
      self->Adopt(c);
    }
  }

  void Adopt(int c) {
    auto conn = std::make_unique<Conn>();
    conn->self = this;
    conn->id = next_id_++;
    conn->fd = c;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    memset(&cred, 0, sizeof(cred));
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) cred.pid = 0, cred.uid = (uid_t)-1, cred.gid = (gid_t)-1;
    conn->pid = cred.pid;
    conn->uid = cred.uid;
    conn->gid = cred.gid;
    conn->poll = new uv_poll_t;
    conn->poll->data = conn.get();
    if (uv_poll_init(loop_, conn->poll, c) != 0) {
      delete conn->poll;
      close(c);
      return;
    }
    uv_poll_start(conn->poll, UV_READABLE | UV_DISCONNECT, &ApiListener::OnReadable);
    conns_[conn->id] = std::move(conn);
  }

  static void OnReadable(uv_poll_t *h, int status, int events) {
    auto *conn = static_cast<Conn *>(h->data);
    conn->self->Drain(conn->id, status);
  }

  // Property names, made once and kept in an array (N-API 8 references only
  // objects): napi_set_named_property would look each up in V8's string
  // table per message.
  enum Key { kConn, kData, kFds, kCred, kPid, kUid, kGid, kTruncated, kCtrunc, kClosed, kError, kInfo, kInfoErrno, kInfoError, kKeys };
  Napi::Value K(Key k) {
    if (keys_.IsEmpty()) {
      static const char *const names[kKeys] = {"conn", "data", "fds", "cred", "pid", "uid", "gid", "truncated", "ctrunc", "closed", "error",
                                               "info", "infoErrno", "infoError"};
      Napi::Array a = Napi::Array::New(Env(), kKeys);
      for (uint32_t i = 0; i < kKeys; i++) a.Set(i, Napi::String::New(Env(), names[i]));
      keys_ = Napi::Persistent(a);
    }
    return keys_.Value().Get(static_cast<uint32_t>(k));
  }

  // Read one message of a connection and deliver it as { conn, data, fds,
  // cred, truncated?, ctrunc? }; end of stream as { conn, closed: true }.
  // One per wake-up: the poll is level-triggered, so a queued next message
  // wakes the loop again, and a client waiting for its answer (the usual
  // case) costs no recvmsg that finds nothing. cred is one frozen object per
  // connection.
  void Drain(uint32_t id, int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    std::vector<uint8_t> &buf = rbuf_;  // one buffer per listener, not 64 KiB zeroed per wake-up
    if (buf.size() != kMaxRecv) buf.resize(kMaxRecv);
    for (int n = 0; n < 64; n++) {
      auto it = conns_.find(id);
      if (it == conns_.end()) return;
      Conn *c = it->second.get();
      union {
        char buf[CMSG_SPACE(sizeof(int) * kMaxFds) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
      } cbuf;
      struct iovec iov = {buf.data(), buf.size()};
      struct msghdr mh;
      memset(&mh, 0, sizeof(mh));
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      mh.msg_control = cbuf.buf;
      mh.msg_controllen = sizeof(cbuf.buf);
      ssize_t r = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && status >= 0) return;
      Napi::Object ev = Napi::Object::New(env);
      ev.Set(K(kConn), Napi::Number::New(env, c->id));
      if (r <= 0) {
        // End of stream, or an error: the connection is over either way.
        if (r < 0) ev.Set(K(kError), Napi::String::New(env, uv_err_name(-(errno == EAGAIN ? ECONNRESET : errno))));
        ev.Set(K(kClosed), Napi::Boolean::New(env, true));
        Drop(id);
        CallSafely(env, cb_, {ev}, *ctx_);
        return;
      }
      Napi::Array fds = Napi::Array::New(env);
      uint32_t nfds = 0;
      int first = -1;
      for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
          size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
          for (size_t i = 0; i < k; i++) {
            int f;
            memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (nfds == 0) first = f;
            fds.Set(nfds++, f);
          }
        }
      }
      // The usual request passes exactly one socket: identify it here, in
      // the same call (no second crossing into the addon per request).
      if (nfds == 1 && !(mh.msg_flags & MSG_CTRUNC)) Identify(env, ev, first);
      size_t len = (size_t)r > buf.size() ? buf.size() : (size_t)r;
      ev.Set(K(kData), Napi::Buffer<uint8_t>::Copy(env, buf.data(), len));
      ev.Set(K(kFds), fds);
      if (c->cred.IsEmpty()) {
        Napi::Object cred = Napi::Object::New(env);
        cred.Set(K(kPid), Napi::Number::New(env, (double)c->pid));
        cred.Set(K(kUid), Napi::Number::New(env, (double)c->uid));
        cred.Set(K(kGid), Napi::Number::New(env, (double)c->gid));
        cred.Freeze();
        c->cred = Napi::Persistent(cred);
      }
      ev.Set(K(kCred), c->cred.Value());
      if (mh.msg_flags & MSG_TRUNC) ev.Set(K(kTruncated), Napi::Boolean::New(env, true));
      if (mh.msg_flags & MSG_CTRUNC) ev.Set(K(kCtrunc), Napi::Boolean::New(env, true));
      CallSafely(env, cb_, {ev}, *ctx_);
      if (status >= 0) return;  // one per wake-up (above)
    }
  }

  // The passed socket's identity into ev.info (kIdentSize bytes): the raw
  // socketInfo layout (0..71), then the socket's shim6_sock policy read with
  // the fd as key when setSockMap() gave the map — 72 u32 state (0 not read,
  // 1 none, 2 present), 76 reserved, 80 struct shim6_sock_policy (40 bytes).
  // A failure: ev.infoErrno (its code, 'ENOTSOCK') and ev.infoError (the
  // message socketInfo would throw).
  void Identify(Napi::Env env, Napi::Object ev, int fd) {
    uint8_t out[kIdentSize];
    memset(out, 0, sizeof(out));
    const char *syscall = "", *what = "";
    if (int e = RawIdentify(fd, out, &syscall, &what)) {
      ev.Set(K(kInfoErrno), Napi::String::New(env, shim6_util::ErrnoCode(e)));
      ev.Set(K(kInfoError), Napi::String::New(env, std::string(shim6_util::ErrnoCode(e)) + ": " + strerror(e) + ", " + syscall + " '" + what + "'"));
      return;
    }
    if (sock_map_ >= 0) {
      uint32_t state = 1;
      if (bpf_map_lookup_elem(sock_map_, &fd, out + 80) == 0) state = 2;
      else if (errno != ENOENT) state = 0, memset(out + 80, 0, kSockPolicySize);
      memcpy(out + 72, &state, 4);
    }
    ev.Set(K(kInfo), Napi::Buffer<uint8_t>::Copy(env, out, sizeof(out)));
  }

  // setSockMap(fd): the socket-local storage map shim6_sock, read in
  // Identify. Checked once (socket storage, 4-byte key, 40-byte value) and
  // dup()ed: the listener owns its copy, so the check stays true. Returns
  // false (and reads nothing) for any other map.
  Napi::Value SetSockMap(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    int fd = ArgInt(info, 0, "fd");
    struct bpf_map_info mi = MapInfoOf(env, fd);
    if (mi.type != BPF_MAP_TYPE_SK_STORAGE || mi.key_size != 4 || mi.value_size != kSockPolicySize) return Napi::Boolean::New(env, false);
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) ThrowErrno(env, errno, "fcntl", "F_DUPFD_CLOEXEC");
    if (sock_map_ >= 0) close(sock_map_);
    sock_map_ = d;
    return Napi::Boolean::New(env, true);
  }

  // reply(conn, data, fds) -> bytes sent: closes the fds (those the request
  // passed) first, then sends — the answer never reaches a client while the
  // server still holds its socket. A gone connection throws after the fds
  // are closed.
  Napi::Value Reply(const Napi::CallbackInfo &info) {
    if (info.Length() > 2 && info[2].IsArray()) {
      Napi::Array a = info[2].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value x = a.Get(i);
        if (x.IsNumber()) close(x.As<Napi::Number>().Int32Value());
      }
    }
    return Send(info);
  }

  void Drop(uint32_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    ClosePoll(it->second->poll);
    close(it->second->fd);
    conns_.erase(it);
  }

  void Stop() {
    while (!conns_.empty()) Drop(conns_.begin()->first);
    if (poll_) {
      ClosePoll(poll_);
      poll_ = nullptr;
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (sock_map_ >= 0) close(sock_map_);
    sock_map_ = -1;
    if (bound_) unlink(path_.c_str());
    bound_ = false;
  }

  // send(conn, data) -> bytes sent. A gone connection throws (EPIPE/ENOTCONN).
  Napi::Value Send(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    uint32_t id = (uint32_t)ArgInt(info, 0, "conn");
    if (info.Length() < 2 || !info[1].IsBuffer()) ThrowType(env, "data must be a Buffer");
    auto data = info[1].As<Napi::Buffer<uint8_t>>();
    auto it = conns_.find(id);
    if (it == conns_.end()) ThrowErrno(env, ENOTCONN, "send");
    ssize_t r;
    do r = send(it->second->fd, data.Data(), data.Length(), MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) ThrowErrno(env, errno, "send");
    return Napi::Number::New(env, (double)r);
  }

  // closeConn(conn) -> boolean (false: no such connection)
  Napi::Value CloseConn(const Napi::CallbackInfo &info) {
    uint32_t id = (uint32_t)ArgInt(info, 0, "conn");
    bool had = conns_.count(id) > 0;
    Drop(id);
    return Napi::Boolean::New(info.Env(), had);
  }

  Napi::Value Close(const Napi::CallbackInfo &info) {
    bool was = fd_ >= 0;
    Stop();
    if (was) Unref();
    return info.Env().Undefined();
  }

  Napi::Value Fd(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fd_); }

  std::string path_;
  bool bound_ = false;
  int fd_ = -1;
  int sock_map_ = -1;  // shim6_sock (setSockMap), owned
  uv_loop_t *loop_ = nullptr;
  uv_poll_t *poll_ = nullptr;
  uint32_t next_id_ = 1;
  std::map<uint32_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint8_t> rbuf_;
  Napi::Reference<Napi::Array> keys_;
  Napi::FunctionReference cb_;
  std::unique_ptr<Napi::AsyncContext> ctx_;
};

// ---- apiRequest ----------------------------------------------------------------------

// One request/reply exchange on a fresh SEQPACKET connection, in the thread
// pool: connect, sendmsg(frame, SCM_RIGHTS fds), wait up to timeoutMs, recv.
class RequestWorker : public Napi::AsyncWorker {
 public:
  RequestWorker(Napi::Env env, std::string path, std::vector<uint8_t> frame, std::vector<int> fds, int timeout_ms)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)),
        frame_(std::move(frame)), fds_(std::move(fds)), timeout_ms_(timeout_ms) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    struct sockaddr_un sa;
    if (!FillSunPath(sa, path_)) return Err(ENAMETOOLONG, "connect");
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) return Err(errno, "socket");
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
      int e = errno;
      close(s);
      return Err(e, "connect");
    }
    struct iovec iov = {frame_.data(), frame_.size()};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    std::vector<char> cbuf;
    if (!fds_.empty()) {
      cbuf.assign(CMSG_SPACE(sizeof(int) * fds_.size()), 0);
      mh.msg_control = cbuf.data();
      mh.msg_controllen = cbuf.size();
      struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
      cm->cmsg_level = SOL_SOCKET;
      cm->cmsg_type = SCM_RIGHTS;
      cm->cmsg_len = CMSG_LEN(sizeof(int) * fds_.size());
      memcpy(CMSG_DATA(cm), fds_.data(), sizeof(int) * fds_.size());
    }
    ssize_t r;
    do r = sendmsg(s, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int e = errno;
      close(s);
      return Err(e, "sendmsg");
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
      struct timespec t;
      clock_gettime(CLOCK_MONOTONIC, &t);
      long left = timeout_ms_ - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
      if (left <= 0) {
        close(s);
        return Err(ETIMEDOUT, "recv");
      }
      struct pollfd pfd = {s, POLLIN, 0};
      int p = poll(&pfd, 1, (int)left);
      if (p < 0 && errno == EINTR) continue;
      if (p < 0) {
        int e = errno;
        close(s);
        return Err(e, "poll");
      }
      if (p == 0) continue;
      break;
    }
    reply_.resize(kMaxRecv);
    do r = recv(s, reply_.data(), reply_.size(), 0);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(s);
    if (r < 0) return Err(e, "recv");
    if (r == 0) return Err(ECONNRESET, "recv");
    reply_.resize((size_t)r);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_) {
      deferred_.Reject(ErrnoError(env, err_, syscall_, path_).Value());
      return;
    }
    deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(env, reply_.data(), reply_.size()));
  }

  void OnError(const Napi::Error &e) override { deferred_.Reject(e.Value()); }

 private:
  void Err(int e, const char *syscall) {
    err_ = e;
    syscall_ = syscall;
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  std::vector<uint8_t> frame_;
  std::vector<int> fds_;
  int timeout_ms_;
  std::vector<uint8_t> reply_;
  int err_ = 0;
  std::string syscall_;
};

// apiRequest(path, frame, fds, timeoutMs?) -> Promise<Buffer>. The fds must
// stay open until the promise settles.
Napi::Value ApiRequest(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "path must be a string");
  if (info.Length() < 2 || !info[1].IsBuffer()) ThrowType(env, "frame must be a Buffer");
  if (info.Length() < 3 || !info[2].IsArray()) ThrowType(env, "fds must be an array of numbers");
  auto frame = info[1].As<Napi::Buffer<uint8_t>>();
  Napi::Array a = info[2].As<Napi::Array>();
  std::vector<int> fds;
  if (a.Length() > (uint32_t)kMaxFds) ThrowType(env, "at most 8 fds");
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) ThrowType(env, "fds must be an array of numbers");
    fds.push_back(v.As<Napi::Number>().Int32Value());
  }
  int timeout = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 5000;
  auto *w = new RequestWorker(env, info[0].As<Napi::String>().Utf8Value(),
                              std::vector<uint8_t>(frame.Data(), frame.Data() + frame.Length()), std::move(fds), timeout);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace shim6_api

// Registered from addon.cc's Init.
void ApiInit(Napi::Env env, Napi::Object exports) {
  exports.Set("ApiListener", shim6_api::ApiListener::Init(env));
  exports.Set("socketInfo", Napi::Function::New(env, shim6_api::SocketInfo));
  exports.Set("apiRequest", Napi::Function::New(env, shim6_api::ApiRequest));
}
