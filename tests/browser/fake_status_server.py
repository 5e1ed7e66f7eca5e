#!/usr/bin/python3
"""Fake /status and /status.json for developing services/common/status_page.html.

Development aid only: the real browser test runs against the real services. Standard
library only. Serves the page (read from disk on every request, so edits show on reload)
at /status and /, and a made-up /status.json in the format of report_http.c, for three
services on three consecutive ports:

    collector  BASE, store  BASE+1, aggregator  BASE+2      (BASE defaults to 19570)

    python3 tests/browser/fake_status_server.py                        # all up
    python3 tests/browser/fake_status_server.py --down store           # store port closed
    python3 tests/browser/fake_status_server.py --down store --down-mode hang
    python3 tests/browser/fake_status_server.py --not-ready aggregator # database unreachable

--no-cors SERVICE leaves out Access-Control-Allow-Origin: *. --down-mode: refuse (nothing listens; the default), hang (accepts, never answers: the
page's 2 s timeout), http500, badjson. --serial answers one connection at a time with a
2 s receive timeout, like the C server. Prints "ready" once every port listens.
"""
import argparse
import json
import math
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PAGE = os.path.join(HERE, "..", "..", "services", "common", "status_page.html")
SERVICES = ["collector", "store", "aggregator"]
T0 = time.time()


def wave(t, period, lo, hi, phase=0.0):
    return lo + (hi - lo) * (0.5 + 0.5 * math.sin(2 * math.pi * t / period + phase))


def history(service, now):
    out = []
    end = now - (now % 10)
    for i in range(359, -1, -1):
        t = end - 10 * i
        if service == "store" and 1200 < now - t < 1320:
            continue  # a two-minute restart gap: the graph must break the line
        if service == "collector":
            rec = round(wave(t, 900, 40, 160), 1)
            rates = {"received": rec, "stored": round(rec * 0.97, 1), "duplicate": 0.0,
                     "rejected": round(wave(t, 300, 0, 4), 1), "busy": 0.0}
            depth = round(wave(t, 600, 0, 40))
        elif service == "store":
            rates = {"stored": round(wave(t, 900, 38, 150), 1), "duplicate": 0.0, "rejected": 0.0}
            depth = round(wave(t, 420, 0, 25, 1.0))
        else:
            rates = {"published": 6.0 if int(t) % 600 < 10 else 0.0,
                     "compiled": round(wave(t, 1200, 0, 3), 1), "catchup": 0.0}
            depth = 2 if now - t < 1800 else 3
        out.append({"t": t, "depth": float(depth), "rates": rates})
    return out


def status(service, base_port, not_ready):
    now = time.time()
    ready = service not in not_ready
    hist = history(service, now)
    last = hist[-1]
    up = now - T0 + 7200
    o = {
        "service": service, "version": "0.1.0", "commit": "f00dfee",
        "started_at": now - up, "now": now,
        "ready": ready, "ready_reason": "" if ready else "database unreachable",
        "peers": ["http://127.0.0.1:%d" % (base_port + i) for i in range(3)],
        "rates_per_minute": dict(last["rates"]),
        "history": hist,
    }
    if service == "collector":
        o["queue"] = {"name": "in flight", "depth": last["depth"], "limit": 10000.0}
        o["counters"] = {"received": 5012.0, "stored": 4903.0, "duplicate": 4.0,
                         "rejected": 105.0, "busy": 0.0}
        o["refusals"] = {"invalid_utf8": 3, "unknown_unit": 1, "value_out_of_range": 101}
        o["collector"] = {"connected_clients": 6, "stores_connected": 1, "handshakes_refused": 2}
    elif service == "store":
        o["queue"] = {"name": "waiting for commit", "depth": last["depth"], "limit": 4096.0}
        o["counters"] = {"stored": 4903.0, "duplicate": 4.0, "rejected": 0.0}
        o["store"] = {"database_up": ready, "waiting": int(last["depth"]),
                      "last_commit_age_seconds": 0.4, "lag_seconds": 0.4 if last["depth"] else 0.0,
                      "reconnects": 1}
    else:
        o["queue"] = {"name": "units not reported", "depth": 2.0, "limit": 6.0}
        o["counters"] = {"published": 14.0, "compiled": 120.0, "catchup": 1.0}
        o["aggregator"] = {
            "database_up": ready, "subscribers": 2,
            "last_published": {"agency": "SKHCN", "period": "2018-07", "version": 3,
                               "number": 588, "seq": 14, "published_at": now - 754.0},
            "period": "2018-08", "deadline": "2018-08-15",
            "late_units": [{"unit": "VAN_PHONG", "name": "Văn phòng Sở"},
                           {"unit": "TT_TTUD", "name": "Trung tâm Thông tin và Ứng dụng KH&CN"}],
        }
    return o


def make_handler(service, args):
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-status/1"

        def log_message(self, fmt, *a):
            if args.verbose:
                sys.stderr.write("%.3f %s :%d %s\n" % (time.time(), service, self.server.server_address[1], fmt % a))

        def setup(self):
            super().setup()
            if args.serial:
                self.connection.settimeout(2.0)

        def send(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            if service not in args.no_cors:
                self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            down = args.down == service
            if path == "/status.json":
                if down and args.down_mode == "hang":
                    time.sleep(3600)
                    return
                if down and args.down_mode == "http500":
                    return self.send(500, "text/plain", b"internal error\n")
                if down and args.down_mode == "badjson":
                    return self.send(200, "application/json; charset=utf-8", b'{"service": "sto')
                body = json.dumps(status(service, args.base_port, args.not_ready),
                                  ensure_ascii=False).encode("utf-8")
                return self.send(200, "application/json; charset=utf-8", body)
            if path in ("/status", "/"):
                with open(args.page, "rb") as f:
                    return self.send(200, "text/html; charset=utf-8", f.read())
            return self.send(404, "text/plain", b"not found\n")

        do_HEAD = do_GET

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--base-port", type=int, default=19570)
    ap.add_argument("--down", choices=SERVICES)
    ap.add_argument("--down-mode", choices=["refuse", "hang", "http500", "badjson"], default="refuse")
    ap.add_argument("--not-ready", action="append", default=[], choices=SERVICES)
    ap.add_argument("--no-cors", action="append", default=[], choices=SERVICES,
                    help="leave out Access-Control-Allow-Origin (the page must show it DOWN)")
    ap.add_argument("--serial", action="store_true", help="one connection at a time, like the C server")
    ap.add_argument("--page", default=DEFAULT_PAGE)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    servers = []
    for i, service in enumerate(SERVICES):
        if args.down == service and args.down_mode == "refuse":
            continue
        cls = HTTPServer if args.serial else ThreadingHTTPServer
        cls.allow_reuse_address = True
        srv = cls((args.host, args.base_port + i), make_handler(service, args))
        srv.daemon_threads = True
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("ready: " + ", ".join("%s http://%s:%d" % (s, args.host, args.base_port + i)
                                for i, s in enumerate(SERVICES)
                                if not (args.down == s and args.down_mode == "refuse")), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
