"""A small FastMCP server (the official `mcp` SDK; FastMCP is MCPServer in mcp 2) over Streamable
HTTP at /mcp, for the real-node tests' Python image. PORT: the port to listen on (all interfaces,
since the pod's sidecar or a test reaches it over the pod network)."""

import os

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("portcullis-python-image", version="1.0.0", log_level="WARNING")


@server.tool(name="echo")
def echo(message: str) -> str:
    """Echoes back the input."""
    return f"Echo: {message}"


@server.tool(name="add")
def add(a: float, b: float) -> float:
    """Adds two numbers."""
    return a + b


if __name__ == "__main__":
    app = server.streamable_http_app(streamable_http_path="/mcp")
    uvicorn.run(app, host="0.0.0.0", port=int(os.environ.get("PORT", "8000")), log_level="info")
