"""The scripted Chat Completions conversation the agent-framework generators share (py_agents2, py4, oi2):
the same prompts and the same answers from the fake OpenAI server, so that their truth files agree."""

from __future__ import annotations

import json

from py_native.generate import oa

SYSTEM = "You are a support assistant for ACME. Answer briefly and politely."
Q1, Q2 = "Where is order A-1001?", "And order A-1002?"
BIG = SYSTEM + "\nPOLICY: " + "Refunds are processed within 5 business days of approval. " * 60
ORDER_TOOL = {"function": {"name": "get_order_status", "arguments": json.dumps({"order_id": "A-1001"})}}

HEALTHY = [oa(1200, 150, "stop", "Order A-1001 shipped yesterday and arrives Friday."),
           oa(1350, 90, "stop", "Order A-1002 is still being packed.")]
CACHED = [oa(9200, 120, "stop", "Refunds take 5 business days."),
          oa(9260, 110, "stop", "Order A-1001 shipped.", cached=8960),
          oa(9310, 100, "stop", "Order A-1002 is packing.", cached=8960)]
STREAMING = [oa(640, 48, "stop", "Your order A-1001 shipped yesterday and arrives Friday."),
             oa(700, 64, "length", "Here is every shipment event recorded for order A-1002 so far")]
TOOL_USE = [oa(420, 150, "tool_calls", None, reasoning=128, tool_calls=[ORDER_TOOL]),
            oa(470, 90, "stop", "Order A-1001 has shipped.", reasoning=64)]
DUPLICATE = [oa(520, 30, "stop", "Order A-1001 shipped yesterday."),
             oa(520, 30, "stop", "Order A-1001 shipped yesterday.")]
ERRORS = [{"status": 429}, {"status": 500}]


def get_order_status(order_id: str) -> str:
    """Look up the shipping status of an order."""
    return "shipped" if order_id == "A-1001" else "packing"
