/* chat_server: process control for the scripted test server (see
 * chat_server.h). The server prints its port on stdout once it listens. */
#include "chat_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

int chat_server_start(chat_server *s, const char *const *args)
{
    memset(s, 0, sizeof *s);
    strcpy(s->log, "/tmp/alarm-test-chatlog-XXXXXX");
    int fd = mkstemp(s->log);
    if (fd < 0)
        return -1;
    close(fd);
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return -1;
    const char *argv[32] = {"/usr/bin/python3", NULL, "--log", s->log, "--max-seconds", "120"};
    char script[4096];
    snprintf(script, sizeof script, "%s", test_path("servers/chat_server.py"));
    argv[1] = script;
    int n = 6;
    for (int i = 0; args && args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    FILE *f = fdopen(pipefd[0], "r");
    int ok = f && fscanf(f, "%d", &s->port) == 1;
    if (f)
        fclose(f);
    if (!ok) {
        chat_server_stop(s);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1/chat/completions", s->port);
    return 0;
}

void chat_server_stop(chat_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (s->log[0])
        unlink(s->log);
}

long chat_server_requests(const chat_server *s)
{
    FILE *f = fopen(s->log, "r");
    if (!f)
        return -1;
    long n = 0;
    int c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int chat_server_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd); /* bound but never listened: connecting is refused */
    return ntohs(a.sin_port);
}
