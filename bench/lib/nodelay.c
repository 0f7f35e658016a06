/*
 * LD_PRELOAD shim for the profile experiments (bench/profile.sh), not for production: turns Nagle's
 * algorithm off (TCP_NODELAY) on every TCP socket the process connects, which is what a one-line change in
 * SshTransport (socket.setTcpNoDelay(true)) would do. Lets the benchmark show the effect of that change on
 * an unchanged engine. Build: gcc -shared -fPIC -O2 -o libnodelay.so nodelay.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
    int type = 0;
    socklen_t type_len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
  }
  return real(fd, addr, len);
}
