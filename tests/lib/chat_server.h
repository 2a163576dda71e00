/* chat_server: starts and stops tests/servers/chat_server.py (the scripted
 * chat-completions server) for unit tests, on a free 127.0.0.1 port, with a
 * request log the tests count. */
#ifndef ALARM_TEST_CHAT_SERVER_H
#define ALARM_TEST_CHAT_SERVER_H

#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    char log[64];
    char url[128]; /* http://127.0.0.1:PORT/v1/chat/completions */
} chat_server;

/* `args` are extra server options (NULL-terminated list, may be empty).
 * Returns 0 when the server is listening. */
int chat_server_start(chat_server *s, const char *const *args);
void chat_server_stop(chat_server *s);

/* Lines in the request log: requests the server received. */
long chat_server_requests(const chat_server *s);

/* A free TCP port on 127.0.0.1 that nothing listens on (for refusals). */
int chat_server_closed_port(void);

#endif
