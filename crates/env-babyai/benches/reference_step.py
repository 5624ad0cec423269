"""Times the Python reference of the BabyAI text env on the workload of `benches/step.rs`.

Two measurements, both on one core (CPython is single-threaded here):

* `text`: AgentGym's own BabyAI text layer (`agentenv_babyai/environment.py`, class
  `BabyAIEnv`, the object the FastAPI handlers call; no HTTP) over MiniGrid. It is NOT on
  PyPI (`agentenv` 0.0.1 there is an empty placeholder, `agentenv-babyai` does not exist), so
  point `AGENTGYM_BABYAI` at the `agentenv-babyai` folder of a checkout of
  github.com/WooooDyy/AgentGym (the fixtures were recorded at commit 3ef9235d, where
  environment.py is blob 192ede31). This script imports that file unmodified; nothing of it
  is copied here.
* `minigrid`: MiniGrid's primitive `env.step` (which includes `gen_obs`) on the same levels,
  with no text layer at all: a lower bound of the reference's cost per step.

Workload (as in `benches/step.rs`): tasks 0, 1, 2, ... (level `task % 40`, seed `task // 40`,
`task` modulo 400), each episode at most 25 steps or until done; the action is entry
`k % len(actions)` of the listed actions, `k = k * 31 + 17` (mod 2^64). Differences, both in
Python's favour: the action string is given to `BabyAIEnv.step` as AgentGym's client would
send it (the client's regex parsing of a ReAct reply is not timed), and resets are timed
apart from steps (the rate quoted first excludes them).

Setup and run (Python 3.11):

    python3 -m venv target/babyai-ref
    target/babyai-ref/bin/pip install minigrid==2.3.1 gymnasium==0.29.1 numpy==1.26.4 \
        gym==0.26.2 matplotlib
    AGENTGYM_BABYAI=/path/to/AgentGym/agentenv-babyai \
        target/babyai-ref/bin/python benches/reference_step.py 20000
"""

import importlib.util
import os
import sys
import time

MASK = (1 << 64) - 1


def load_agentgym():
    root = os.environ.get("AGENTGYM_BABYAI")
    if not root:
        return None
    path = os.path.join(root, "agentenv_babyai", "environment.py")
    spec = importlib.util.spec_from_file_location("agentgym_babyai_environment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_text(module, steps):
    server = module.BabyAIEnv()
    idx = server.create()["id"]
    task, k, in_episode = 0, 0, 0
    step_time = reset_time = 0.0
    step_cpu = reset_cpu = 0.0
    done_steps = 0
    while done_steps < steps:
        if in_episode == 0:
            t0, c0 = time.perf_counter(), time.process_time()
            payload = server.reset(idx, task % 400)
            reset_time += time.perf_counter() - t0
            reset_cpu += time.process_time() - c0
            assert "error" not in payload, payload
            task += 1
        actions = server.env[idx]._get_action_space()
        k = (k * 31 + 17) & MASK
        action = actions[k % len(actions)]
        t0, c0 = time.perf_counter(), time.process_time()
        payload = server.step(idx, action)
        step_time += time.perf_counter() - t0
        step_cpu += time.process_time() - c0
        assert "error" not in payload, payload
        done_steps += 1
        in_episode = 0 if payload["done"] or in_episode == 24 else in_episode + 1
        if payload["done"]:
            # The server refuses steps after done; a fresh id stands for the next episode.
            idx = server.create()["id"]
    print(
        f"text (AgentGym BabyAIEnv.step over MiniGrid): {done_steps} steps, "
        f"{done_steps / step_time:,.0f} steps/s wall, {done_steps / step_cpu:,.0f} steps/CPU-s "
        f"(resets excluded); with {task} resets included: "
        f"{done_steps / (step_time + reset_time):,.0f} steps/s wall"
    )


def time_minigrid(steps):
    import gymnasium
    import minigrid  # noqa: F401  (registers the BabyAI levels)

    names = [
        "GoToRedBallGrey", "GoToRedBall", "GoToRedBallNoDists", "GoToObjS6", "GoToLocalS8N7",
        "GoToObjMazeS7", "GoToImpUnlock", "GoToSeqS5R2", "GoToRedBlueBall", "GoToDoor",
        "GoToObjDoor", "Open", "OpenRedDoor", "OpenDoorLoc", "OpenRedBlueDoorsDebug",
        "OpenDoorsOrderN4Debug", "Pickup", "UnblockPickup", "PickupLoc", "PickupDistDebug",
        "PickupAbove", "PutNextLocalS6N4", "PutNextS7N4Carrying", "Unlock", "UnlockLocalDist",
        "KeyInBox", "UnlockPickupDist", "BlockedUnlockPickup", "UnlockToUnlock",
        "ActionObjDoor", "FindObjS7", "KeyCorridorS6R3", "OneRoomS20", "MoveTwoAcrossS8N9",
        "SynthS5R2", "SynthLoc", "SynthSeq", "MiniBossLevel", "BossLevel", "BossLevelNoUnlock",
    ]
    envs = [gymnasium.make(f"BabyAI-{name}-v0") for name in names]
    task, k, in_episode = 0, 0, 0
    step_time = step_cpu = 0.0
    env = None
    for _ in range(steps):
        if in_episode == 0:
            env = envs[task % 40]
            env.reset(seed=(task % 400) // 40)
            task += 1
        k = (k * 31 + 17) & MASK
        t0, c0 = time.perf_counter(), time.process_time()
        _, _, terminated, _, _ = env.step(k % 6)
        step_time += time.perf_counter() - t0
        step_cpu += time.process_time() - c0
        in_episode = 0 if terminated or in_episode == 24 else in_episode + 1
    print(
        f"minigrid (primitive env.step incl. gen_obs, no text layer): {steps} steps, "
        f"{steps / step_time:,.0f} steps/s wall, {steps / step_cpu:,.0f} steps/CPU-s"
    )


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    module = load_agentgym()
    if module is None:
        print("AGENTGYM_BABYAI not set: the text layer is not timed")
    else:
        time_text(module, steps)
    time_minigrid(steps)


if __name__ == "__main__":
    main()
