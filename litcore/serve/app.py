"""The FastAPI app of `lit serve`: gallery, sessions, items, propagation, exports (see API.md).

Every client value is checked before it reaches a session (views.py,
codec.py); a check that fails is a 4xx naming the field, so bad input never
becomes a 500 and never leaves a session half-changed.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
from pathlib import Path
from typing import Any, Iterator, Literal, Optional, Union

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from litcore.interactive import SessionStateError
from litcore.serve.codec import BadInput, png_bytes, mask_png
from litcore.serve.gallery import Gallery
from litcore.serve.sessions import ServeOptions, ServeSession, SessionManager

STATIC = Path(__file__).parent / "static"
NAME = r"^[A-Za-z0-9_.:@-]{1,64}$"


class CreateSession(BaseModel):
    user: str = Field(pattern=NAME, description="who annotates (letters, digits, _ . : @ -)")
    group: str = Field(min_length=1, max_length=256, description="gallery entry (video, class stream)")
    object: Optional[str] = Field(default=None, max_length=64, description="only this object of the video")
    lit: bool = True


class Rle(BaseModel):
    size: list[int] = Field(description="[height, width]")
    counts: Union[str, list[int]]


class ActionBody(BaseModel):
    kind: Literal["click", "mask", "label"]
    x: Optional[int] = None
    y: Optional[int] = None
    positive: bool = True
    mask: Optional[Rle] = None
    label: Optional[int] = None
    label_name: Optional[str] = Field(default=None, max_length=256)


class LitBody(BaseModel):
    enabled: bool


def create_app(gallery: Gallery, options: ServeOptions | None = None, *, token: str | None = None,
               study: Any = None) -> FastAPI:
    """The app over one model and dataset; `token` (if set) is required on every request."""
    options = options or ServeOptions()
    manager = SessionManager(options.max_sessions, options.idle_seconds)
    model_lock = threading.RLock()
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = threading.Event()

        def sweep() -> None:  # idle sessions expire even when no request comes
            while not stop.wait(min(60.0, max(options.idle_seconds / 4, 0.05))):
                manager.expire()

        sweeper = threading.Thread(target=sweep, name="lit-serve-expiry", daemon=True)
        sweeper.start()
        yield
        stop.set()
        sweeper.join()
        manager.close_all()   # finish updates, free every session's memory

    app = FastAPI(title="litcore serve", version="1", lifespan=lifespan,
                  description="Live interactive training: a person corrects, the model learns (litcore/serve/API.md).")
    app.state.manager, app.state.gallery, app.state.study = manager, gallery, study

    @app.exception_handler(BadInput)
    async def _bad_input(request: Request, exc: BadInput):
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=exc.status)

    @app.exception_handler(SessionStateError)
    async def _bad_state(request: Request, exc: SessionStateError):
        return JSONResponse({"detail": f"state: {exc}", "field": "state"}, status_code=409)

    if token:
        @app.middleware("http")
        async def _require_token(request: Request, call_next):
            given = (request.headers.get("x-lit-token") or request.query_params.get("token")
                     or request.cookies.get("lit_token") or "")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                given = auth[7:].strip()
            if not secrets.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"detail": "token: missing or wrong access token", "field": "token"}, 401)
            response = await call_next(request)
            if request.query_params.get("token"):
                response.set_cookie("lit_token", token, httponly=True, samesite="strict")
            return response

    if (STATIC / "index.html").is_file():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page():
        index = STATIC / "index.html"
        if index.is_file():
            return FileResponse(index, media_type="text/html")
        return HTMLResponse("<h1>litcore serve</h1><p>The page is not installed; the API is at /docs.</p>")

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        return {**gallery.info(), "study": study is not None}

    @app.get("/api/gallery")
    def get_gallery() -> dict[str, Any]:
        return {"group_noun": gallery.group_noun, "entries": gallery.entries()}

    @app.get("/api/gallery/{group}/thumbnail")
    def thumbnail(group: str) -> Response:
        return Response(gallery.thumbnail(group), media_type="image/png")

    @app.get("/api/study/{user}")
    def study_of(user: str) -> dict[str, Any]:
        if study is None:
            raise BadInput("study", "the server is not in study mode", status=404)
        return study.describe(user, manager)

    def session(sid: str) -> ServeSession:
        manager.expire()
        return manager.get(sid)

    def check_index(s: ServeSession, i: int) -> None:
        if not 0 <= i < s.view.length:
            raise BadInput("index", f"{i} is out of range (0..{s.view.length - 1})", status=404)

    @app.post("/api/sessions", status_code=201)
    def open_session(body: CreateSession) -> dict[str, Any]:
        lit = body.lit
        if study is not None:
            lit = study.condition(body.user, body.group)
        old = manager.find(body.user, body.group)
        if old is not None and not old.closed:
            return old.state()
        episodes, view = gallery.episodes(body.group, body.object)
        manager.reserve()
        s = ServeSession(manager.new_id(), body.user, body.group, episodes, view, gallery.model, gallery.oracle,
                         options, model_lock, lit=lit, on_episode=None if study is None else study.on_episode)
        manager.add(s)
        return s.state()

    @app.get("/api/sessions/{sid}")
    def get_state(sid: str) -> dict[str, Any]:
        return session(sid).state()

    @app.delete("/api/sessions/{sid}")
    def close_session(sid: str) -> dict[str, Any]:
        manager.remove(sid)
        return {"closed": sid}

    @app.get("/api/sessions/{sid}/items/{i}/image")
    def item_image(sid: str, i: int) -> Response:
        s = session(sid)
        check_index(s, i)
        return Response(png_bytes(s.view.image(i)), media_type="image/png")

    def prediction_json(s: ServeSession, i: int) -> dict[str, Any]:
        check_index(s, i)
        with s.lock:
            pred, scores, state = s.kept(i)
            act = s.active
            source = act.source if state == "frontier" else "kept"
            rec = next((r for f in s.finished for r in f.records if r.index == i), None) if act is None else \
                next((r for r in act.records if r.index == i), None)
        names = s.view.names()
        return {"index": i, "name": names[i], "kind": s.view.kind, "state": state,
                "source": source, "outcome": None if rec is None else rec.outcome,
                **s.view.prediction(pred, scores)}

    @app.get("/api/sessions/{sid}/items/{i}/prediction")
    def item_prediction(sid: str, i: int) -> dict[str, Any]:
        return prediction_json(session(sid), i)

    @app.get("/api/sessions/{sid}/items/{i}/mask.png")
    def item_mask(sid: str, i: int) -> Response:
        s = session(sid)
        check_index(s, i)
        if s.view.kind != "mask":
            raise BadInput("index", "this session classifies images: it has no masks", status=409)
        with s.lock:
            pred, _, _ = s.kept(i)
        return Response(mask_png(pred), media_type="image/png")

    @app.post("/api/sessions/{sid}/items/{i}/flag")
    def flag(sid: str, i: int) -> dict[str, Any]:
        s = session(sid)
        check_index(s, i)
        with s.lock:
            revision = s.flag(i)
            return {"revision": None if revision is None else prediction_json(s, i)}

    @app.post("/api/sessions/{sid}/items/{i}/reject")
    def reject(sid: str, i: int) -> dict[str, Any]:
        s = session(sid)
        check_index(s, i)
        with s.lock:
            s.reject(i)
            return prediction_json(s, i)

    @app.post("/api/sessions/{sid}/items/{i}/action")
    def action(sid: str, i: int, body: ActionBody) -> dict[str, Any]:
        s = session(sid)
        check_index(s, i)
        act = s.view.action(body.model_dump())
        with s.lock:
            s.apply(i, act)
            return prediction_json(s, i)

    @app.post("/api/sessions/{sid}/items/{i}/accept")
    def accept(sid: str, i: int) -> dict[str, Any]:
        s = session(sid)
        check_index(s, i)
        with s.lock:
            s.accept(i)
            return s.state()

    @app.get("/api/sessions/{sid}/propagate")
    def propagate(sid: str, until: Optional[int] = Query(default=None, ge=0)) -> StreamingResponse:
        s = session(sid)
        with s.lock:
            if s.busy:
                raise BadInput("session", "a propagation is already running", status=409)
            if s.done:
                raise BadInput("session", "the session is finished: nothing to propagate", status=409)
            s.busy = True
            s.cancel.clear()
        return StreamingResponse(_stream(s, until), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    def _stream(s: ServeSession, until: int | None) -> Iterator[str]:
        reason = "end"
        try:
            while True:
                if s.cancel.is_set():
                    reason = "cancelled"
                    break
                with s.lock:
                    before = s.index
                    more = s.propagate_step()
                    if not more:
                        break
                    front = s.frontier_index()
                    data = prediction_json(s, front)
                yield f"event: item\ndata: {json.dumps(data)}\n\n"
                if s.index != before:
                    reason = "object"
                    break
                if until is not None and front >= until:
                    reason = "until"
                    break
        finally:
            s.busy = False
        yield f"event: end\ndata: {json.dumps({'reason': reason, 'state': s.state()})}\n\n"

    @app.post("/api/sessions/{sid}/cancel")
    def cancel(sid: str) -> dict[str, Any]:
        s = session(sid)
        running = s.busy
        if running:
            s.cancel.set()
        return {"cancelled": running}

    @app.post("/api/sessions/{sid}/lit")
    def set_lit(sid: str, body: LitBody) -> dict[str, Any]:
        s = session(sid)
        if study is not None:
            raise BadInput("enabled", "the study fixes LIT on or off per video", status=409)
        with s.lock:
            s.set_lit(body.enabled)
            return s.state()

    @app.get("/api/sessions/{sid}/records")
    def records(sid: str) -> dict[str, Any]:
        s = session(sid)
        with s.lock:
            steps, episodes = s.records()
            return {"steps": [r.to_json() for r in steps], "episodes": [e.to_json() for e in episodes]}

    @app.get("/api/sessions/{sid}/export")
    def export(sid: str, format: str = Query(default="palette", max_length=16)) -> Response:
        s = session(sid)
        with s.lock:
            parts = [(f.episode, f.kept) for f in s.finished]
            if s.active is not None:
                parts.append((s.active.episode, dict(s.active.kept)))
            body, media, name = s.view.export(parts, format)
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app
