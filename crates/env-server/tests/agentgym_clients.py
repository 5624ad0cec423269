#!/usr/bin/env python3
"""Drive `crossgym serve` with AgentGym's own env clients, unchanged.

The clients come from the AgentGym reference checkout named by $AGENTGYM_REFERENCE (the folder
holding `agentenv/agentenv/envs/*.py`). Only what the clients' package would import besides
`requests` is replaced: torch, transformers, openai (and numpy when it is not installed), and
the `Agent`/`APIAgent` classes of the package's `__init__`, which the env clients never use.

Usage: agentgym_clients.py --env NAME --server http://127.0.0.1:PORT --episodes FILE.json

FILE.json comes from `cargo run -p crossgym-env-server --example oracle_episodes -- NAME N`:
the in-process env's first observation, and for every whole reply its observation, reward and
done. Each episode is replayed through the client (`reset`, `observe`, `step(reply)`), and every
observation, reward and done must be identical. Exits 0 when the reference is absent (after a
loud SKIPPED line), 1 on any difference.
"""

import argparse
import importlib.util
import json
import os
import sys
import types

SKIP = "SKIPPED: AgentGym reference clients not found (set AGENTGYM_REFERENCE)"


def stub_module(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_clients(reference):
    """Builds the `agentenv` package from the reference files with ML imports stubbed."""
    root = os.path.join(reference, "agentenv", "agentenv")
    controller_dir = os.path.join(root, "controller")
    envs_dir = os.path.join(root, "envs")

    class _Unused:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("stubbed: not used by the env clients")

    stub_module("torch")
    stub_module("openai", OpenAI=_Unused)
    stub_module("transformers", GenerationConfig=_Unused, PreTrainedModel=_Unused,
                PreTrainedTokenizerBase=_Unused)
    try:
        import numpy  # noqa: F401
    except ImportError:
        stub_module("numpy")

    package = stub_module("agentenv")
    package.__path__ = [root]
    controller = stub_module("agentenv.controller")
    controller.__path__ = [controller_dir]
    envs = stub_module("agentenv.envs")
    envs.__path__ = [envs_dir]
    package.controller = controller
    package.envs = envs

    # What the package __init__ exports, in dependency order.
    controller.Agent = _Unused
    controller.APIAgent = _Unused
    types_mod = load_file("agentenv.controller.types", os.path.join(controller_dir, "types.py"))
    env_mod = load_file("agentenv.controller.env", os.path.join(controller_dir, "env.py"))
    controller.types = types_mod
    controller.BaseEnvClient = env_mod.BaseEnvClient
    task_mod = load_file("agentenv.controller.task", os.path.join(controller_dir, "task.py"))
    controller.BaseTask = task_mod.BaseTask
    utils_mod = load_file("agentenv.controller.utils", os.path.join(controller_dir, "utils.py"))
    for name in ("BaseAdapter", "extract_python_code_blocks", "format_code_as_action_prompt",
                 "format_function_call_prompt", "parse_python_code_comments"):
        setattr(controller, name, getattr(utils_mod, name))

    def client(module, cls):
        return getattr(load_file(f"agentenv.envs.{module}", os.path.join(envs_dir, f"{module}.py")), cls)

    return {
        "babyai": client("babyai", "BabyAIEnvClient"),
        "textcraft": client("textcraft", "TextCraftEnvClient"),
        "alfworld": client("alfworld", "AlfWorldEnvClient"),
        "webshop": client("webshop", "WebshopEnvClient"),
        "searchqa": client("searchqa", "SearchQAEnvClient"),
    }


def first_observation(env, client, task):
    """Resets the client to `task` the way AgentGym's trainers do; returns what the agent sees."""
    if env == "babyai":
        client.reset(task)
        return client.observe()
    if env == "textcraft":
        client.reset(task)
        return client.observe()
    if env == "alfworld":
        client.reset(task, "Text")
        return client.observe()
    if env == "webshop":
        answer = client.reset(task)
        assert answer[1] is None, answer
        return answer[0]
    if env == "searchqa":
        prompt = client.reset(task)
        observed = client.observe()
        assert prompt == observed, (prompt, observed)
        return observed
    raise ValueError(env)


def id_field(env):
    return "env_idx" if env in ("webshop", "searchqa") else "id"


def close_checked(args, client):
    """Closes through the client (WebShop's returns None, the others the server's `true`), then
    checks that the session is gone: closing it again answers `false`."""
    import requests

    answer = client.close()
    assert answer in (True, None), answer
    again = requests.post(f"{args.server}/close", json={id_field(args.env): client.env_id}).json()
    assert again is False, again
    return client.env_id


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--episodes", required=True)
    args = parser.parse_args()

    reference = os.environ.get("AGENTGYM_REFERENCE", "")
    if not reference or not os.path.isdir(os.path.join(reference, "agentenv", "agentenv", "envs")):
        print("=" * 78)
        print(SKIP)
        print("=" * 78)
        return 0

    import requests

    clients = load_clients(reference)
    cls = clients[args.env]
    with open(args.episodes) as f:
        episodes = json.load(f)["episodes"]

    differences = []
    steps = 0
    client = None
    for number, episode in enumerate(episodes):
        # Trainers keep one client per worker across episodes; renew it every 5 to cover both.
        if client is None or number % 5 == 0:
            if client is not None:
                close_checked(args, client)
            client = cls(env_server_base=args.server, data_len=len(episodes))
        task = episode["task"]
        seen = first_observation(args.env, client, task)
        if seen != episode["first_observation"]:
            differences.append((task, "reset", episode["first_observation"], seen))
        for turn, expected in enumerate(episode["turns"]):
            out = client.step(expected["reply"])
            steps += 1
            got = (out.state, float(out.reward), bool(out.done))
            want = (expected["observation"], float(expected["reward"]), bool(expected["done"]))
            if got != want:
                differences.append((task, f"turn {turn}", want, got))
                break

    # A closed session answers the reference's error shape, naming the id.
    closed = close_checked(args, client)
    field = id_field(args.env)
    answer = requests.post(f"{args.server}/step", json={field: closed, "action": "look"}).json()
    assert isinstance(answer, dict) and str(closed) in answer.get("error", ""), answer
    # A body without the id is FastAPI's 422.
    bad = requests.post(f"{args.server}/step", json={"action": "look"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", field], bad.text

    for task, where, want, got in differences[:5]:
        print(f"DIFFERENCE {args.env} task {task} {where}:\n  want {want!r}\n  got  {got!r}")
    print(f"{args.env}: {len(episodes)} episodes, {steps} steps through AgentGym's "
          f"{cls.__name__}: {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
