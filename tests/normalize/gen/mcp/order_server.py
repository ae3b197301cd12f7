"""The tiny local MCP server of the MCP captures: one tool, ``get_order(order_id)``, over stdio (mcp 2.x
``MCPServer``; mcp 1.x ``FastMCP``, its former name). Run by generate.py as a subprocess of the client."""

from __future__ import annotations

try:
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]

app = MCPServer("acme-orders")


@app.tool()
def get_order(order_id: str) -> str:
    """Look up the shipping status of an ACME order."""
    return "shipped" if order_id == "A-1001" else "packing"


if __name__ == "__main__":
    app.run("stdio")
