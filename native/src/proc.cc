// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// proc.cc: what the agent asks of its own process. sd_notify(3)'s datagram,
// written here (no libsystemd), and the privilege drop after setup:
// capabilities, bounding set, ambient set, no_new_privs.
//
// Capabilities and no_new_privs are per thread in Linux, and Node runs
// several (libuv's pool, V8's platform workers). dropPrivileges() applies
// the change on every thread of the process, as libcap's psx does: it
// signals each other thread, whose handler makes the same system calls,
// then makes them itself, and checks /proc/self/task/*/status afterwards.
#include "napi_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>

namespace shim6_proc {

using shim6_util::ThrowErrno;
using shim6_util::ThrowType;

// ------------------------------------------------------------- sd_notify

// NOTIFY_SOCKET: a path, or '@name' for the abstract namespace.
// Returns false when NOTIFY_SOCKET is not set (not run by systemd).
Napi::Value SdNotify(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowType(env, "state must be a string");
  std::string state = info[0].As<Napi::String>().Utf8Value();
  const char *e = getenv("NOTIFY_SOCKET");
  if (!e || !*e) return Napi::Boolean::New(env, false);
  std::string where(e);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  if (where[0] != '/' && where[0] != '@') ThrowErrno(env, EAFNOSUPPORT, "sd_notify", where);
  if (where.size() >= sizeof(sa.sun_path)) ThrowErrno(env, ENAMETOOLONG, "sd_notify", where);
  memcpy(sa.sun_path, where.data(), where.size());
  socklen_t len = offsetof(struct sockaddr_un, sun_path) + where.size();
  if (where[0] == '@') sa.sun_path[0] = '\0';  // abstract: no terminating NUL counted
  else len += 1;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket");
  ssize_t n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<struct sockaddr *>(&sa), len);
  int err = errno;
  close(fd);
  if (n < 0) ThrowErrno(env, err, "sendto", where);
  return Napi::Boolean::New(env, true);
}

// ----------------------------------------------------------- capabilities

int LastCap() {
  int last = CAP_LAST_CAP;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return last < 63 ? last : 63;
}

uint64_t ReadMask(const char *path, const char *field) {
  FILE *f = fopen(path, "re");
  if (!f) return UINT64_MAX;
  char line[256];
  uint64_t v = UINT64_MAX;
  size_t fl = strlen(field);
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
      v = strtoull(line + fl + 1, nullptr, 16);
      break;
    }
  }
  fclose(f);
  return v;
}

Napi::Value CapGet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &hdr, data) != 0) ThrowErrno(env, errno, "capget");
  auto mask = [](uint32_t lo, uint32_t hi) { return (static_cast<uint64_t>(hi) << 32) | lo; };
  uint64_t bounding = 0;
  int last = LastCap();
  for (int c = 0; c <= last; c++)
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1) bounding |= 1ULL << c;
  uint64_t ambient = 0;
  for (int c = 0; c <= last; c++)
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1) ambient |= 1ULL << c;
  Napi::Object o = Napi::Object::New(env);
  o.Set("effective", Napi::BigInt::New(env, mask(data[0].effective, data[1].effective)));
  o.Set("permitted", Napi::BigInt::New(env, mask(data[0].permitted, data[1].permitted)));
  o.Set("inheritable", Napi::BigInt::New(env, mask(data[0].inheritable, data[1].inheritable)));
  o.Set("bounding", Napi::BigInt::New(env, bounding));
  o.Set("ambient", Napi::BigInt::New(env, ambient));
  o.Set("noNewPrivs", Napi::Boolean::New(env, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1));
  o.Set("lastCap", Napi::Number::New(env, last));
  return o;
}

// What every thread applies (async-signal-safe: system calls only).
struct Drop {
  uint64_t keep;
  int last;
  bool bounding;           // the caller may clear the bounding set (CAP_SETPCAP)
  std::atomic<int> done;
  std::atomic<int> err;    // first errno
  std::atomic<int> where;  // 1 bounding, 2 ambient, 3 no_new_privs, 4 capset
};
Drop g_drop;

int ApplyHere() {
  for (int c = 0; g_drop.bounding && c <= g_drop.last; c++) {
    if (g_drop.keep & (1ULL << c)) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) return 1;
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return 2;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 3;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) return 4;
  for (int i = 0; i < 2; i++) {
    uint32_t k = static_cast<uint32_t>(g_drop.keep >> (32 * i));
    data[i].permitted &= k;
    data[i].effective = data[i].permitted;
    data[i].inheritable = 0;
  }
  hdr.pid = 0;
  if (syscall(SYS_capset, &hdr, data) != 0) return 4;
  return 0;
}

void OnDropSignal(int) {
  int saved = errno;
  int w = ApplyHere();
  if (w) {
    int expected = 0;
    if (g_drop.err.compare_exchange_strong(expected, errno)) g_drop.where.store(w);
  }
  g_drop.done.fetch_add(1);
  errno = saved;
}

std::set<pid_t> Threads() {
  std::set<pid_t> out;
  DIR *d = opendir("/proc/self/task");
  if (!d) return out;
  while (struct dirent *e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    out.insert(static_cast<pid_t>(atoi(e->d_name)));
  }
  closedir(d);
  return out;
}

// Threads whose effective, permitted or bounding set still has a dropped
// capability; those that block `sig` go to `blocked` (they cannot be asked:
// Node's inspector thread, which waits for SIGUSR1 with every signal blocked).
std::set<pid_t> Laggards(uint64_t keep, int sig, std::set<pid_t> *blocked) {
  std::set<pid_t> out;
  for (pid_t t : Threads()) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/status", t);
    uint64_t eff = ReadMask(path, "CapEff"), prm = ReadMask(path, "CapPrm"), bnd = ReadMask(path, "CapBnd");
    uint64_t nnp = ReadMask(path, "NoNewPrivs"), blk = ReadMask(path, "SigBlk");
    if (eff == UINT64_MAX) continue;  // exited meanwhile
    if (!((eff | prm | (g_drop.bounding ? bnd : 0)) & ~keep) && nnp == 1) continue;
    if (blk != UINT64_MAX && (blk >> (sig - 1)) & 1) {
      if (blocked) blocked->insert(t);
    } else {
      out.insert(t);
    }
  }
  return out;
}

const char *WhereName(int w) {
  switch (w) {
    case 1: return "prctl(PR_CAPBSET_DROP)";
    case 2: return "prctl(PR_CAP_AMBIENT)";
    case 3: return "prctl(PR_SET_NO_NEW_PRIVS)";
    default: return "capset";
  }
}

// dropPrivileges(keep: bigint): keep these capabilities (permitted and
// effective; also the bounding set, so children such as ip(8) can have
// them), drop every other from all sets on every thread, set no_new_privs.
// Returns the effective set now held, the number of threads, and the
// threads that block every signal and so kept their sets.
Napi::Value DropPrivileges(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBigInt()) ThrowType(env, "keep must be a bigint (capability mask)");
  bool lossless = false;
  uint64_t keep = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowType(env, "keep must fit in 64 bits");
  g_drop.keep = keep;
  g_drop.last = LastCap();
  {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0) ThrowErrno(env, errno, "capget");
    g_drop.bounding = (d[0].effective >> CAP_SETPCAP) & 1;
  }
  g_drop.err.store(0);
  g_drop.where.store(0);
  const int sig = SIGRTMIN + 7;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnDropSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, &old) != 0) ThrowErrno(env, errno, "sigaction");
  pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  pid_t pid = getpid();
  // This thread first: threads it creates later inherit the reduced sets.
  int w = ApplyHere();
  if (w) {
    int err = errno;
    sigaction(sig, &old, nullptr);
    ThrowErrno(env, err, WhereName(w));
  }
  // Then the others, until none has more than `keep` (a thread may be born
  // from another thread meanwhile: a few rounds).
  std::set<pid_t> lag;
  for (int round = 0; round < 5; round++) {
    lag = Laggards(keep, sig, nullptr);
    lag.erase(self);
    if (lag.empty()) break;
    g_drop.done.store(0);
    int sent = 0;
    for (pid_t t : lag)
      if (syscall(SYS_tgkill, pid, t, sig) == 0) sent++;
    struct timespec ts = {0, 1000000};
    for (int i = 0; i < 2000 && g_drop.done.load() < sent; i++) nanosleep(&ts, nullptr);
    if (g_drop.err.load()) break;
  }
  sigaction(sig, &old, nullptr);
  if (g_drop.err.load()) ThrowErrno(env, g_drop.err.load(), WhereName(g_drop.where.load()), "another thread");
  std::set<pid_t> blocked;
  lag = Laggards(keep, sig, &blocked);
  if (!lag.empty()) ThrowErrno(env, EAGAIN, "dropPrivileges", std::to_string(lag.size()) + " thread(s) kept capabilities");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) ThrowErrno(env, errno, "capget");
  uint64_t eff = (static_cast<uint64_t>(data[1].effective) << 32) | data[0].effective;
  Napi::Object o = Napi::Object::New(env);
  o.Set("effective", Napi::BigInt::New(env, eff));
  o.Set("threads", Napi::Number::New(env, static_cast<double>(Threads().size())));
  Napi::Array b = Napi::Array::New(env);
  uint32_t i = 0;
  for (pid_t t : blocked) b.Set(i++, Napi::Number::New(env, t));
  o.Set("unreachable", b);
  return o;
}

}  // namespace shim6_proc

// Registered from addon.cc's Init.
void ProcInit(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, shim6_proc::SdNotify));
  exports.Set("capGet", Napi::Function::New(env, shim6_proc::CapGet));
  exports.Set("dropPrivileges", Napi::Function::New(env, shim6_proc::DropPrivileges));
}
