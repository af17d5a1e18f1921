#!/usr/bin/env python3
"""A lab's client for scripts/serve.ts, Python standard library only.

Runs one closed-loop search: create it, then repeatedly fetch a batch of stimuli, "show" each
one and post the responses, until the budget is spent; then stop it (the server writes the
output folder) and print a JSON summary. Replace measure() with the rig's code.

    python3 examples/client.py --server http://127.0.0.1:8700 --token-file serve-data/token
"""
import argparse
import json
import time
import urllib.error
import urllib.request
import uuid


def call(base, token, method, path, body=None, key=None, tries=30):
    """One API call; retries (same idempotency key) while the server restarts or throttles."""
    headers = {"Authorization": "Bearer " + token}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    for _ in range(tries):
        request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as e:
            if e.code != 429 and e.code < 500:
                raise SystemExit("%s %s: %d %s" % (method, path, e.code, json.load(e)["error"]))
            time.sleep(float(e.headers.get("Retry-After") or 0.5))
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise SystemExit("%s %s: no answer after %d tries" % (method, path, tries))


def measure(stimulus):
    """Stands in for the rig: show the stimulus (stimulus["image"] is its PNG's URL; the
    latent is what generated it) and return the neuron's response."""
    return -sum((x - 1.0) ** 2 for x in stimulus["latent"])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="http://127.0.0.1:8700")
    p.add_argument("--token-file", default="serve-data/token")
    p.add_argument("--generator", default="sngan")
    p.add_argument("--method", default="tt-b")
    p.add_argument("--budget", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=25)
    p.add_argument("--grid-size", type=int, default=64)
    a = p.parse_args()
    with open(a.token_file) as f:
        token = f.read().strip()
    spec = {"generator": a.generator, "method": a.method, "budget": a.budget, "seed": a.seed,
            "batchSize": a.batch_size, "gridSize": a.grid_size}
    search = call(a.server, token, "POST", "/searches", spec, key=str(uuid.uuid4()))["id"]
    while True:
        batch = call(a.server, token, "GET", "/searches/%s/next" % search)
        if batch["done"]:
            break
        responses = [{"id": s["id"], "value": measure(s)} for s in batch["stimuli"]]
        call(a.server, token, "POST", "/searches/%s/responses" % search,
             {"responses": responses}, key=str(uuid.uuid4()))
    stopped = call(a.server, token, "POST", "/searches/%s/stop" % search)
    state = stopped["state"]
    print(json.dumps({"search": search, "folder": stopped["folder"],
                      "evaluations": state["evaluations"], "best": state["best"]}))


if __name__ == "__main__":
    main()
