# start_server [server options]: starts the scripted server $SERVER (default
# tests/servers/score_server.py: the http: and LanguageTool protocols; the
# judge's tests set tests/servers/chat_server.py) on a free port of 127.0.0.1
# and sets PORT, URL (http://127.0.0.1:PORT$SERVER_URL_PATH) and SERVER_PID;
# its request log is $T/log. The teardown below stops it.
: "${SERVER:=$BATS_TEST_DIRNAME/servers/score_server.py}"
start_server() {
    : >"$T/port"
    /usr/bin/python3 "$SERVER" --log "$T/log" --max-seconds 60 "$@" >"$T/port" 3>&- &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port")
    URL="http://127.0.0.1:$PORT${SERVER_URL_PATH:-}"
    [ -n "$PORT" ]
}
# requests: how many requests the server has logged so far
requests() { if [ -f "$T/log" ]; then wc -l <"$T/log"; else echo 0; fi; }
teardown() {
    if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
    true
}
