"""The pages anyone may read without signing in: the home page and the service guide; and the
display preferences every page offers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import csrf
from web.guide import Guide
from web.preferences import CONTRASTS, TEXT_SIZES, Display
from web.rendering import local_path, refused, render

router = APIRouter(include_in_schema=False)


def _guide(request: Request) -> Guide:
    guide: Guide = request.app.state.guide
    return guide


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", figures=_guide(request).figures)


@router.get("/guide", response_class=HTMLResponse)
def guide(request: Request) -> HTMLResponse:
    return render(request, "guide.html", guide=_guide(request))


@router.post("/preferences", response_model=None)
def preferences(
    request: Request,
    text: Annotated[str, Form()] = "normal",
    contrast: Annotated[str, Form()] = "normal",
    back: Annotated[str, Form(alias="next")] = "/",
    token: Annotated[str | None, Form(alias=csrf.FIELD)] = None,
) -> Response:
    if not csrf.valid(request, token):
        return refused(request, 403, "errors.csrf_title", "errors.csrf")
    if text not in TEXT_SIZES or contrast not in CONTRASTS:
        return refused(request, 400, "errors.bad_input_title", "errors.bad_preference")
    response = RedirectResponse(local_path(back), status_code=303)
    Display(text=text, contrast=contrast).keep(request, response)
    return response
