#ifndef SHIM6_NATIVE_SKEL_H
#define SHIM6_NATIVE_SKEL_H
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
struct bpf_object;
struct bpf_object *shim6_skel_open_load(const char *pin_dir, unsigned int gso_mode, unsigned int seg_ifindex,
					unsigned int tcp_rto_max_ms, unsigned int tcp_rto_bounded, unsigned int tcp_rto_max_dflt,
					unsigned long long netns_cookie, unsigned int xdp, int *err_out,
					char *where, size_t where_len);
#ifdef __cplusplus
}
#endif
#endif
