#!/usr/bin/python3
"""A scripted OpenAI-compatible chat-completions server for alarm-judge's tests
and benchmark. Standard library only (asyncio, HTTP/1.1 keep-alive), binds
127.0.0.1 on a free port, prints the port on stdout, and appends one JSON line
per request received to --log, flushed at once so tests can count requests.

The verdict is scripted by the user message: the first "q=N" in it belongs to
the output shown first, the second to the output shown second; the higher N
wins, equal N answers "Output (a)" (a position bias, so the two orders split).
Markers in the user message inject faults:
  UNPARSEABLE  answer text naming neither output
  FAIL500      always 500
  FLAKY429     first time this exact body is seen: 429 with Retry-After: 1
  FLAKYMS429   first time this exact body is seen: 429 with retry-after-ms: 600
  FLAKY500     first time this exact body is seen: 503
  SLOWONCE     first time this exact body is seen: answer after --slow-ms
  MALFORMED    200 with a body that is not JSON
A request with "tools" gets a tool call answer, otherwise a text answer
(--text-only ignores tools). --key K answers 401 unless the request carries
"Authorization: Bearer K", with an OpenAI-style error body that repeats the
key it was given (as a careless server might: a client must not print it).
--models M1,M2 answers 400 "model_not_found" to any other model;
--status N answers every request with status N and an OpenAI-style error.
The server stops by itself after --max-seconds.
--workers N forks N processes sharing the listening socket, for benchmarks:
one Python process serialises the CPU work of 32 simultaneous answers, which
adds its own latency; the fault markers' "first time" is then per process."""
import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import time

Q_RE = re.compile(r"q=(-?\d+)")


class State:
    def __init__(self, args):
        self.args = args
        self.seen = set()
        self.count = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None

    def first_time(self, marker, body):
        key = (marker, hashlib.sha256(body).hexdigest())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def answer(self, method, path, headers, body):
        """Returns (status, extra headers, body bytes, delay seconds, log fields).
        A server for another protocol (score_server.py) overrides this."""
        if method != "POST" or not path.endswith("/chat/completions"):
            return 404, {}, b"{}", 0, {}
        return decide(self, body, headers)


def chat_answer(req, text, use_tool):
    msg = {"role": "assistant", "content": text}
    finish = "stop"
    if use_tool:
        msg = {"role": "assistant", "content": None,
               "tool_calls": [{"id": "call_0", "type": "function",
                               "function": {"name": req["tools"][0]["function"]["name"],
                                            "arguments": json.dumps({"choice": text})}}]}
        finish = "tool_calls"
    return {"id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": req.get("model", "test"),
            "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}


def openai_error(message, kind, code):
    return json.dumps({"error": {"message": message, "type": kind, "param": None,
                                 "code": code}}).encode()


def decide(st, body, headers):
    """Returns (status, extra headers, body bytes, delay seconds, log fields)."""
    a = st.args
    delay = a.delay_ms / 1000.0
    if a.key is not None and headers.get("authorization") != "Bearer " + a.key:
        given = headers.get("authorization", "")[len("Bearer "):]
        return 401, {}, openai_error("Incorrect API key provided: %s. You can find your API "
                                     "key in your account settings." % given,
                                     "invalid_request_error", "invalid_api_key"), delay, {"auth": False}
    try:
        req = json.loads(body)
        user = [m["content"] for m in req["messages"] if m["role"] == "user"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return 400, {}, b'{"error": {"message": "bad request"}}', 0, {}
    info = {"auth": True, "user": user, "model": req.get("model"),
            "temperature": req.get("temperature"), "tools": "tools" in req}
    if a.status:
        return a.status, {}, openai_error("scripted status %d" % a.status, "scripted", None), delay, info
    if a.models and req.get("model") not in a.models.split(","):
        return 400, {}, openai_error("The model `%s` does not exist." % req.get("model"),
                                     "invalid_request_error", "model_not_found"), delay, info
    if "FAIL500" in user:
        return 500, {}, b'{"error": {"message": "scripted failure"}}', delay, info
    if "FLAKYMS429" in user and st.first_time("429ms", body):
        return 429, {"retry-after-ms": "600"}, b'{"error": {"message": "slow down"}}', 0, info
    if "FLAKY429" in user and st.first_time("429", body):
        return 429, {"Retry-After": "1"}, b'{"error": {"message": "slow down"}}', 0, info
    if "FLAKY500" in user and st.first_time("500", body):
        return 503, {}, b'{"error": {"message": "overloaded"}}', 0, info
    if "SLOWONCE" in user and st.first_time("slow", body):
        delay = a.slow_ms / 1000.0
    if "MALFORMED" in user:
        return 200, {}, b'{"choices": [ this is not json', delay, info
    qs = [int(x) for x in Q_RE.findall(user)]
    if "UNPARSEABLE" in user or len(qs) < 2:
        text = "Both answers have merit; I cannot decide."
    else:
        text = "Output (b)" if qs[1] > qs[0] else "Output (a)"
    use_tool = "tools" in req and not a.text_only
    out = json.dumps(chat_answer(req, text, use_tool)).encode()
    return 200, {}, out, delay, info


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = await reader.readexactly(n) if n else b""
    return method, path, headers, body


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


async def handle(st, reader, writer):
    try:
        while True:
            try:
                method, path, headers, body = await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                break
            st.count += 1
            status, extra, out, delay, info = st.answer(method, path, headers, body)
            if st.log:
                rec = {"n": st.count, "t": time.time(), "path": path, "status": status}
                rec.update(info)
                st.log.write(json.dumps(rec) + "\n")
                st.log.flush()
            if delay > 0:
                await asyncio.sleep(delay)
            hdr = "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
                status, REASONS.get(status, "Status"), len(out))
            for k, v in extra.items():
                hdr += "%s: %s\r\n" % (k, v)
            writer.write(hdr.encode() + b"\r\n" + out)
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except ConnectionError:
        pass
    finally:
        writer.close()


async def serve(st, sock, max_seconds, parent):
    server = await asyncio.start_server(lambda r, w: handle(st, r, w), sock=sock)
    async with server:
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            if parent is not None and os.getppid() != parent:
                break  # the parent is gone (killed): do not outlive it


def common_options(p):
    """The options every server built on this one takes."""
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--slow-ms", type=float, default=3000)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--workers", type=int, default=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common_options(p)
    p.add_argument("--key")
    p.add_argument("--text-only", action="store_true")
    p.add_argument("--models")
    p.add_argument("--status", type=int, default=0)
    run(p.parse_args(), State)


def run(args, state_class):
    """Binds 127.0.0.1, prints the port, serves state_class(args) until
    --max-seconds or SIGTERM."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(512)
    sock.setblocking(False)
    children = []
    parent = os.getpid()
    for _ in range(args.workers - 1):
        pid = os.fork()
        if pid == 0:
            asyncio.run(serve(state_class(args), sock, args.max_seconds, parent))
            os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        os._exit(0)  # the log is flushed per line; nothing else to save

    signal.signal(signal.SIGTERM, stop)
    print(sock.getsockname()[1], flush=True)
    try:
        asyncio.run(serve(state_class(args), sock, args.max_seconds, None))
    except KeyboardInterrupt:
        pass
    stop(None, None)


if __name__ == "__main__":
    main()
