"""The pages: what retirees, employers, clerks and supervisors see in their browser, in Chinese.

Served by the same process as the JSON API (``web.app`` mounts them beside ``api.app``), on the
same read model; every text comes from the message catalogue (``web/messages.toml``), every
script, style sheet and font from ``web/static/`` (nothing loads from the internet).
"""
