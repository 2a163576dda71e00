# start_server [server options]: starts tests/servers/score_server.py on a
# free port of 127.0.0.1 (the http: and LanguageTool protocols) and sets
# PORT, URL and SERVER_PID; its request log is $T/log. Stop it in teardown:
# kill "$SERVER_PID".
SERVER="$BATS_TEST_DIRNAME/servers/score_server.py"
start_server() {
    : >"$T/port"
    /usr/bin/python3 "$SERVER" --log "$T/log" --max-seconds 60 "$@" >"$T/port" 3>&- &
    SERVER_PID=$!
    for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
    PORT=$(cat "$T/port")
    URL="http://127.0.0.1:$PORT"
    [ -n "$PORT" ]
}
