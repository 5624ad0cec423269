"""Steps per second of AgentGym's TextCraft env in-process, on the mix of benches/step.rs.

Usage: python reference_step.py <agentenv-textcraft dir> [steps]

<agentenv-textcraft dir> is AgentGym's `agentenv-textcraft/` (it holds `agentenv_textcraft/` with
the recipes). Needs `gymnasium` and `numpy`. The package's `__init__` (which imports the FastAPI
server) is bypassed: the env module is imported directly, as the fixture generator did.
Measures (a) the server's `TextCraftEnv.step` on cleaned actions and (b) the client's reply
parsing (`re.findall` + `re.sub` + split/join) followed by that step, i.e. what our `step` does.
"""

import importlib
import os
import re
import sys
import time
import types

ACTIONS = [
    "get 1 oak logs",
    "craft 4 oak planks using 1 oak logs",
    "craft 4 stick using 2 oak planks",
    "inventory",
]
REPLIES = ["Thought:\nI need materials for the goal.\n\nAction:\n" + a for a in ACTIONS]


def client_parse(reply):
    matches = re.findall(r"Action:\s*(.*?)(?=\n|$)", reply, re.DOTALL)
    if len(matches) > 1:
        return None
    action = matches[-1] if matches else ""
    action = re.sub(r"[^A-Za-z0-9, ]+", "", action)
    return " ".join(action.split()).strip()


def main():
    root = os.path.abspath(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 400_000
    original_listdir = os.listdir
    os.listdir = lambda path=".": sorted(original_listdir(path))
    package = types.ModuleType("agentenv_textcraft")
    package.__path__ = [os.path.join(root, "agentenv_textcraft")]
    sys.modules["agentenv_textcraft"] = package
    crafting_tree = importlib.import_module("agentenv_textcraft.crafting_tree")
    environment = importlib.import_module("agentenv_textcraft.environment")
    os.chdir(root)
    tree = crafting_tree.CraftingTree(minecraft_dir="agentenv_textcraft/")
    env = environment.TextCraftEnv(crafting_tree=tree, commands=None, goal=None)
    env.reset(data_idx=543)
    assert env.step("craft 4 oak planks using 1 oak logs")[0].startswith("Could not find enough")

    rounds = steps // len(ACTIONS)
    n = rounds * len(ACTIONS)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for action in ACTIONS:
            env.step(action)
    server = (n / (time.perf_counter() - start), n / (time.process_time() - cpu))

    env.reset(data_idx=543)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        for reply in REPLIES:
            env.step(client_parse(reply))
    client = (n / (time.perf_counter() - start), n / (time.process_time() - cpu))
    print(f"python {sys.version.split()[0]}, {n} steps each:")
    print(f"  server step:                {server[0]:,.0f} steps/s wall, {server[1]:,.0f} per CPU-second")
    print(f"  client parse + server step: {client[0]:,.0f} steps/s wall, {client[1]:,.0f} per CPU-second")


if __name__ == "__main__":
    main()
