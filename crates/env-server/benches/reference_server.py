"""Starts AgentGym's BabyAI server (agentenv_babyai.server:app, from a checkout, unmodified)
with uvicorn on 127.0.0.1:PORT, access log off, for `benches/http.rs`.

Usage: python reference_server.py AGENTENV_BABYAI_DIR PORT
"""

import sys

import uvicorn

sys.path.insert(0, sys.argv[1])  # agentenv_babyai is a namespace package there
from agentenv_babyai.server import app  # noqa: E402

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
