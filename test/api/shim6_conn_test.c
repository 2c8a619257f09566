// SPDX-License-Identifier: (GPL-2.0 OR MIT)
// shim6_conn_test: libshim6's shared API connection (test/unit/api/
// libshim6.test.ts runs it against a server whose fake backend gives every
// connected TCP socket a context): many calls on one connection, threads
// (one of them at a time on the shared connection, the others on short
// ones), fork() (the child must not read the parent's replies), an
// application closing every descriptor (its file must not be written to),
// and the agent restarting between two calls ("restart" on stdout, then a
// line on stdin once the test has restarted it).
// Prints TAP-like lines; the exit status is the number of failures.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shim6/shim.h>

static int failures, n;

#define CHECK(cond, ...) do { \
	n++; \
	if (cond) { printf("ok %d - ", n); printf(__VA_ARGS__); printf("\n"); } \
	else { failures++; printf("not ok %d - ", n); printf(__VA_ARGS__); printf(" (errno %d)\n", errno); } \
	fflush(stdout); \
} while (0)

static void die(const char *what) { perror(what); exit(100); }

static int l, acc, tcp;

static void tcp_pair(void)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 4) < 0 || getsockname(l, (struct sockaddr *)&sa, &len) < 0)
		die("listen");
	tcp = socket(AF_INET6, SOCK_STREAM, 0);
	if (tcp < 0 || connect(tcp, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect");
	acc = accept(l, NULL, NULL);
}

/* SHIM_ASSOCIATED on the TCP socket: 1, or -1. */
static int assoc(void)
{
	int v = -1;
	socklen_t len = sizeof(v);
	return shim6_getsockopt(tcp, SOL_SHIM, SHIM_ASSOCIATED, &v, &len) == 0 && len == sizeof(v) ? v : -1;
}

/* A get whose answer is specific to the call: the peer locator list's length. */
static int peers(void)
{
	struct shim_locator list[SHIM_MAX_LOCATORS];
	socklen_t len = sizeof(list);
	return shim6_getsockopt(tcp, SOL_SHIM, SHIM_LOCLIST_PEER, list, &len) == 0 ? (int)(len / sizeof(list[0])) : -1;
}

static void *worker(void *arg)
{
	long bad = 0;
	for (int i = 0; i < 200; i++)
		if (((i & 1) ? peers() != 3 : assoc() != 1))
			bad++;
	*(long *)arg = bad;
	return NULL;
}

int main(void)
{
	tcp_pair();
	int ok = 1;
	for (int i = 0; i < 50; i++)
		ok &= assoc() == 1;
	CHECK(ok, "50 calls in a row");
	printf("calls done\n");
	fflush(stdout);

	/* Threads: all answers right. */
	pthread_t th[8];
	long bad[8];
	for (int i = 0; i < 8; i++)
		if (pthread_create(&th[i], NULL, worker, &bad[i]))
			die("pthread_create");
	long total = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		total += bad[i];
	}
	CHECK(total == 0, "8 threads x 200 calls at once: every answer right (%ld wrong)", total);

	/* fork(): parent and child both call, interleaved; each gets its own answers. */
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int good = 1;
		for (int i = 0; i < 100; i++)
			good &= (i & 1) ? peers() == 3 : assoc() == 1;
		_exit(good ? 0 : 1);
	}
	ok = 1;
	for (int i = 0; i < 100; i++)
		ok &= (i & 1) ? assoc() == 1 : peers() == 3;
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(ok, "fork(): the parent's answers are its own");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork(): the child's answers are its own");

	/* The application closes every descriptor it does not know, then opens a
	 * pipe that may take the connection's number: the next call must
	 * reconnect, and nothing may reach the pipe. */
	for (int fd = 3; fd < 1024; fd++)
		if (fd != l && fd != acc && fd != tcp)
			close(fd);
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	int p2[2];
	if (pipe(p2) < 0)
		die("pipe");
	CHECK(assoc() == 1, "a call after the application closed every other descriptor");
	if (write(p[1], "x", 1) != 1 || write(p2[1], "y", 1) != 1)
		die("write");
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p2[0], F_SETFL, O_NONBLOCK);
	char buf[64];
	ssize_t r1 = read(p[0], buf, sizeof(buf)), r2 = read(p2[0], buf + 1, sizeof(buf) - 1);
	CHECK(r1 == 1 && r2 == 1 && buf[0] == 'x' && buf[1] == 'y', "the pipes that took the freed numbers carry only their own bytes");
	CHECK(fcntl(p[0], F_GETFD) >= 0 && fcntl(p[1], F_GETFD) >= 0 && fcntl(p2[0], F_GETFD) >= 0 && fcntl(p2[1], F_GETFD) >= 0,
	      "and stay open");

	/* The agent restarts between two calls. */
	printf("restart\n");
	fflush(stdout);
	if (!fgets(buf, sizeof(buf), stdin))
		die("stdin");
	CHECK(assoc() == 1, "the first call after the agent restarted reconnects and succeeds");
	CHECK(peers() == 3, "and so does the next");

	printf("%d tests, %d failures\n", n, failures);
	return failures;
}
