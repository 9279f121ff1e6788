"""Large text and high contrast: a form like every other (CSRF-checked, refusing bad input and
changing nothing then), remembered in a cookie so every page renders with it."""

from __future__ import annotations

import httpx

from web.messages import messages


async def _token(http: httpx.AsyncClient) -> str:
    page = await http.get("/guide")
    assert page.status_code == 200
    token = http.cookies.get("csrf")
    assert token and f'value="{token}"' in page.text
    return token


async def test_chosen_preferences_shape_every_page(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    chosen = {"csrf": token, "text": "large", "contrast": "high", "next": "/guide"}
    saved = await http.post("/preferences", data=chosen)
    assert (saved.status_code, saved.headers["location"]) == (303, "/guide")
    for path in ("/", "/guide"):
        page = await http.get(path)
        assert '<html lang="zh-CN" class="text-large contrast-high">' in page.text
        assert 'value="large" checked' in page.text and 'value="high" checked' in page.text
    back = {"csrf": token, "text": "normal", "contrast": "normal", "next": "/"}
    assert (await http.post("/preferences", data=back)).status_code == 303
    assert '<html lang="zh-CN">' in (await http.get("/")).text


async def test_a_post_without_the_token_is_refused_and_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    token = await _token(http)
    for forged in (None, "", "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        data = {"text": "large", "contrast": "high"}
        if forged is not None:
            data["csrf"] = forged
        refused = await http.post("/preferences", data=data)
        assert refused.status_code == 403
        assert messages()("errors.csrf") in refused.text
        assert "display" not in refused.headers.get("set-cookie", "")
    assert "text-large" not in (await http.get("/")).text


async def test_bad_values_are_refused_in_chinese_and_change_nothing(
    http: httpx.AsyncClient,
) -> None:
    token = await _token(http)
    for data in ({"text": "huge"}, {"contrast": "x"}):
        refused = await http.post("/preferences", data={"csrf": token, **data})
        assert refused.status_code == 400
        assert messages()("errors.bad_preference") in refused.text
        assert "display" not in refused.headers.get("set-cookie", "")


async def test_it_returns_only_to_a_page_of_this_site(http: httpx.AsyncClient) -> None:
    token = await _token(http)
    for target, landed in (
        ("/guide#steps", "/guide#steps"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ):
        data = {"csrf": token, "text": "normal", "contrast": "normal", "next": target}
        answer = await http.post("/preferences", data=data)
        assert (answer.status_code, answer.headers["location"]) == (303, landed)
