/*
 * vpcd_loopback.c: preloaded into the pcscd that tests/pcsc/pcscd_control.py starts
 * (LD_PRELOAD), so that the vpcd slots listen on loopback only.
 *
 * Debian's vpcd driver (vsmartcard-vpcd 3.3, virtualsmartcard 0.8) binds each slot's socket
 * to INADDR_ANY with no setting for the address (src/vpcd/vpcd.c, opensock), which lets anyone
 * on the network insert a card into this machine's reader. Its "reverse" mode (DEVICENAME
 * host:port, vpcd connecting to the card) cannot replace it: with no card listening, pcscd
 * aborts on the next presence poll ("bit out of range 0 - FD_SETSIZE on fd_set").
 *
 * This wraps bind(): an IPv4 or IPv6 socket bound to the wildcard address is bound to
 * 127.0.0.1 (or ::1) instead. pcscd binds no other TCP socket; its clients use a Unix socket.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_function)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static bind_function real_bind;

    if (!real_bind) {
        real_bind = (bind_function) dlsym(RTLD_NEXT, "bind");
        if (!real_bind) {
            errno = ENOSYS;
            return -1;
        }
    }

    if (addr && addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in4;
        memcpy(&in4, addr, sizeof in4);
        if (in4.sin_addr.s_addr == htonl(INADDR_ANY)) {
            in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *) &in4, sizeof in4);
        }
    } else if (addr && addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, addr, sizeof in6);
        if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) {
            in6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *) &in6, sizeof in6);
        }
    }
    return real_bind(fd, addr, len);
}
