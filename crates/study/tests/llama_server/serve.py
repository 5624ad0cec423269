"""Serves a GGUF with llama.cpp's OpenAI-compatible HTTP server (PyPI wheel xllamacpp) on
127.0.0.1 until stdin closes (unless --until-signal) or the process is signalled.

usage: python serve.py --model FILE.gguf --port PORT [--parallel N] [--ctx-per-slot T] [--threads N]
                       [--until-signal]

Prints one line `listening http://127.0.0.1:PORT` once the model is loaded.
"""

import argparse
import signal
import sys
import threading

import xllamacpp


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--ctx-per-slot", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alias", default="smollm2")
    parser.add_argument("--until-signal", action="store_true", help="ignore stdin")
    args = parser.parse_args()

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = args.alias
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.parallel * args.ctx_per_slot
    params.cont_batching = True
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    server = xllamacpp.Server(params)
    print(f"listening {server.listening_address}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if not args.until_signal:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    stop.wait()
    del server


if __name__ == "__main__":
    main()
