/* chat_bench_server: a minimal chat-completions server for alarm-judge's
 * benchmark, where the Python test server's per-request CPU cost would be the
 * bottleneck. One epoll loop, HTTP/1.1 keep-alive, every POST answered after
 * a fixed delay with "Output (a)" or "Output (b)" (the higher "q=N" of the two
 * in the body wins, as in chat_server.py). Binds 127.0.0.1 on a free port,
 * prints it, appends a line per request to the log, and exits by itself after
 * --max-seconds or on SIGTERM.
 * usage: chat_bench_server [--delay-ms MS] [--log FILE] [--max-seconds S] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN 4096
#define BUF_CAP (1 << 20)

typedef struct {
    int fd;
    char *in;
    size_t len;
} conn;

/* A response waiting for its time. The delay is fixed, so due times arrive
 * in request order and a ring buffer is a priority queue. */
typedef struct {
    double due;
    int fd;
    int verdict_b;
} pending;

static conn conns[MAX_CONN];
static pending ring[1 << 16];
static size_t ring_head, ring_tail;
static volatile sig_atomic_t stop;
static size_t logged; /* requests not yet written to the log */

/* One log line per request, written once per loop turn: on a virtual machine
 * every system call costs, and the log is only read between benchmark runs. */
static void flush_log(int logfd)
{
    static const char lines[] = "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n";
    while (logged > 0) {
        size_t n = logged < 8 ? logged : 8;
        if (logfd < 0 || write(logfd, lines, 3 * n) < 0)
            break;
        logged -= n;
    }
    logged = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static void drop(int ep, int fd)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(conns[fd].in);
    conns[fd].in = NULL;
    conns[fd].len = 0;
    conns[fd].fd = -1;
}

/* The first two "q=N" in the body: is the second larger? */
static int second_wins(const char *body, size_t n)
{
    long q[2];
    int k = 0;
    for (size_t i = 0; i + 2 < n && k < 2; i++)
        if (body[i] == 'q' && body[i + 1] == '=')
            q[k++] = strtol(body + i + 2, NULL, 10);
    return k == 2 && q[1] > q[0];
}

static void answer(int fd, int verdict_b)
{
    char body[512], out[1024];
    int bn = snprintf(body, sizeof body,
                      "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                      "\"message\":{\"role\":\"assistant\",\"content\":\"Output (%c)\"},"
                      "\"finish_reason\":\"stop\"}]}",
                      verdict_b ? 'b' : 'a');
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     bn, body);
    /* Small answers on an idle keep-alive socket: a short write is not expected;
     * a peer that went away is simply dropped by the read side. */
    if (write(fd, out, (size_t)n) < 0 && errno != EAGAIN)
        return;
}

/* Takes every complete request out of the connection's buffer. */
static void parse(int fd, double delay)
{
    conn *c = &conns[fd];
    for (;;) {
        char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
        if (!end)
            return;
        size_t head = (size_t)(end - c->in) + 4, clen = 0;
        for (char *p = c->in; p < end; p++)
            if ((*p == 'C' || *p == 'c') && strncasecmp(p, "content-length:", 15) == 0) {
                clen = strtoul(p + 15, NULL, 10);
                break;
            }
        if (c->len < head + clen)
            return;
        pending *q = &ring[ring_tail++ % (sizeof ring / sizeof ring[0])];
        q->due = now_s() + delay;
        q->fd = fd;
        q->verdict_b = second_wins(c->in + head, clen);
        logged++;
        memmove(c->in, c->in + head + clen, c->len - head - clen);
        c->len -= head + clen;
    }
}

int main(int argc, char **argv)
{
    double delay = 0.05, max_s = 300;
    const char *log = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--delay-ms") == 0)
            delay = atof(argv[i + 1]) / 1000.0;
        else if (strcmp(argv[i], "--log") == 0)
            log = argv[i + 1];
        else if (strcmp(argv[i], "--max-seconds") == 0)
            max_s = atof(argv[i + 1]);
    }
    int logfd = log ? open(log, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 512) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) < 0) {
        perror("chat_bench_server");
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);
    signal(SIGTERM, on_term);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < MAX_CONN; i++)
        conns[i].fd = -1;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    double end = now_s() + max_s;
    char buf[65536];
    while (!stop && now_s() < end) {
        int timeout = 100;
        if (ring_head != ring_tail) {
            double wait = ring[ring_head % (sizeof ring / sizeof ring[0])].due - now_s();
            timeout = wait <= 0 ? 0 : (int)(wait * 1000.0) + 1;
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int cfd;
                while ((cfd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (cfd >= MAX_CONN) {
                        close(cfd);
                        continue;
                    }
                    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[cfd].fd = cfd;
                    conns[cfd].in = malloc(BUF_CAP);
                    conns[cfd].len = 0;
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = cfd};
                    epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ce);
                }
                continue;
            }
            conn *c = &conns[fd];
            /* One read per wake-up (level-triggered epoll comes back for the rest). */
            ssize_t r = read(fd, buf, sizeof buf);
            if (r > 0 && c->len + (size_t)r <= BUF_CAP) {
                memcpy(c->in + c->len, buf, (size_t)r);
                c->len += (size_t)r;
            } else if (r > 0)
                r = 0; /* a request larger than the buffer: drop the client */
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                drop(ep, fd);
                continue;
            }
            parse(fd, delay);
        }
        flush_log(logfd);
        double t = now_s();
        while (ring_head != ring_tail && ring[ring_head % (sizeof ring / sizeof ring[0])].due <= t) {
            pending *q = &ring[ring_head++ % (sizeof ring / sizeof ring[0])];
            if (conns[q->fd].fd >= 0)
                answer(q->fd, q->verdict_b);
        }
    }
    return 0;
}
