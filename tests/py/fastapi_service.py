"""A Python service traced with the official SDK's TracingMiddleware.

Prints its port on the first line of stdout, then serves until killed.
GET /answer?q=... is handled by a @traceable function with a @traceable child.
"""
import asyncio
import socket

import uvicorn
from fastapi import FastAPI
from langsmith import traceable
from langsmith.middleware import TracingMiddleware

app = FastAPI()
app.add_middleware(TracingMiddleware)


@traceable(name="py_child", run_type="tool")
async def py_child(q: str) -> dict:
    return {"answer": q.upper()}


@traceable(name="py_handler")
async def py_handler(q: str) -> dict:
    return await py_child(q)


@app.get("/answer")
async def answer(q: str):
    return await py_handler(q)


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections wait in the backlog until uvicorn accepts
    print(sock.getsockname()[1], flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    asyncio.run(server.serve(sockets=[sock]))


if __name__ == "__main__":
    main()
