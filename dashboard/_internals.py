"""The few places the dashboard relies on library internals, each checked, each with a fallback.

Checked against streamlit 1.67.0, folium 0.20.0, streamlit-folium 0.27.4 and choreographer 1.4.0 (``tests/test_internals.py``
pins these versions and says what to re-check when one of them is upgraded). Every function here first
checks the private attributes it uses; when one is missing it logs one warning and leaves the library's
own behaviour in place, so an upgrade costs a workaround, never a page:

- :func:`pin_files_made_on_click` — Streamlit's media file manager deletes a file made by a deferred
  download after two clean-ups (any session's script run ends one); under concurrent use the browser's
  request came too late (HTTP 404). Each made file is kept for ``PIN_SECONDS``. Installed by ``app.py``.
  Fallback: Streamlit's own behaviour (a download may 404 while many users work).
- :func:`say_why_files_failed` — when the file of a deferred download cannot be made, Streamlit answers the
  browser with a fixed English "Failed to generate file for download" (shown for five seconds under the
  button, or not at all). A :class:`FileBuildFailed` raised by the file's maker carries the message in
  the user's language, and that message is the answer instead. Installed by ``app.py``. Fallback:
  Streamlit's fixed message (the failure is still in the log).
- :class:`GeoJsonLayer` — ``folium.GeoJson`` that renders its script verbatim (branca compiles it as a
  Jinja template again, a lexer pass over the whole GeoJSON that also evaluates ``{{ … }}`` found in the
  data) and takes styles and bounds computed once. Fallback: ``folium.GeoJson.render`` (slower; data is
  escaped by ``dashboard.maps.escape_text`` either way).
- :func:`keep_element_ids` / :func:`drop_stale_renders` — streamlit-folium renames every element of a map
  after drawing it and leaves its render in the figure; a later render of the same map (the HTML and PNG
  downloads) then referred to layers that no longer existed, or held every layer twice. Fallback: the map
  on the page is drawn as usual; its downloads may come out empty.
- :class:`EncodedOnce` / :func:`encode_geojson_once` — a layer's GeoJSON went through ``json.dumps`` with
  sorted keys twice per draw (folium's render, then streamlit-folium's second pass over every element's
  script); a map of every parcel and compound spent about half its server time there. The data is
  encoded once, as it is, and both passes take that text (Jinja's ``json.dumps_function`` policy).
  Fallback: Jinja encodes it each time, as before.
- :func:`open_default_page_by_slug` — Streamlit serves the default page only at the app's root: its own
  slug (``/overview``, from a bookmark or a shared link) matched no page and showed an English "Page not
  found" dialog before falling back to it. The request for that slug is turned into a request for the
  root before ``st.navigation`` resolves it. Fallback: the dialog is shown, then the default page.
- :func:`chromium_with_web_security` — choreographer (under kaleido) starts the Chromium that renders chart
  and map pictures with ``--disable-web-security`` and ``--allow-file-access-from-files``; neither is needed
  (charts render from kaleido's own page, maps from a page in the export engine's private 0700 folder with
  everything inlined). Its launcher without them keeps the same-origin and local-file rules on. Fallback:
  choreographer's own launcher, flags included (one warning).
- :func:`option_widget_keys` — Streamlit keeps a select widget's value as the *label* of the chosen option;
  after a language switch no label matches, so the choice fell back to the default (or, for a label that
  is no option, came back as that label and reached the URL). The language switch re-sets those widgets'
  values from their keys before the page runs. Fallback: no keys, the choices reset as before.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import folium
from branca.element import Element

log = logging.getLogger(__name__)

PIN_HOLDER = "__files_made_on_click__"  # a pseudo session that holds files made on click
PIN_SECONDS = 600.0

_warned: set[str] = set()


def _fallback(what: str, missing: Iterable[str]) -> None:
    """Log once per workaround that it is off because the library changed (``missing`` names what)."""
    if what not in _warned:
        _warned.add(what)
        log.warning("%s: the library no longer has %s; using its own behaviour instead.", what,
                    ", ".join(sorted(missing)))


def _lacking(obj: object, names: Iterable[str]) -> list[str]:
    return [name for name in names if not hasattr(obj, name)]


# ---------------------------------------------------------------------------------- streamlit downloads
_MANAGER_CLASS_ATTRS = ("execute_deferred", "_remove_orphaned_deferred_callables")
_MANAGER_ATTRS = ("_lock", "_files_by_session_and_coord", "_file_metadata")


def pin_files_made_on_click() -> bool:
    """Keep each file made by a deferred download for ``PIN_SECONDS``; ``True`` when the pin is installed.

    Installed once per process (a second call does nothing). Streamlit stores such a file without tying it
    to a session and drops it in a later clean-up; each made file is also mapped here under a holder no
    session clears, and dropped after ``PIN_SECONDS``. The manager's attributes are checked at install and
    on each call; without them Streamlit's own behaviour stays (one warning in the log).
    """
    from streamlit.runtime.media_file_manager import MediaFileManager

    original = MediaFileManager.execute_deferred
    if getattr(original, "_pins_made_files", False):
        return True
    missing = _lacking(MediaFileManager, _MANAGER_CLASS_ATTRS)
    if missing:
        _fallback("pinning files made on click", missing)
        return False

    def execute_deferred(self: Any, file_id: str) -> str:
        url = original(self, file_id)
        missing = _lacking(self, _MANAGER_ATTRS)
        if missing or not isinstance(getattr(self, "_files_by_session_and_coord", None), dict):
            _fallback("pinning files made on click", missing or ["_files_by_session_and_coord as a dict"])
            return url
        made_id = url.rsplit("/", 1)[-1].split(".", 1)[0]
        now = time.monotonic()
        with self._lock:
            pins = self._files_by_session_and_coord.setdefault(PIN_HOLDER, {})
            for coordinate in [c for c in pins if now - float(c.split("|", 1)[0]) > PIN_SECONDS]:
                del pins[coordinate]
            if made_id in self._file_metadata:
                pins[f"{now:.6f}|{made_id}"] = made_id
        return url

    execute_deferred._pins_made_files = True  # type: ignore[attr-defined]
    MediaFileManager.execute_deferred = execute_deferred  # type: ignore[method-assign]
    return True


class FileBuildFailed(RuntimeError):
    """The file of a download could not be made; ``str(exc)`` is what the user is told, in their language."""


_HANDLER_ATTRS = ("handle",)
_failure_messages: dict[str, str] = {}  # deferred file id -> the user's message, until the answer is sent
_failure_lock = threading.Lock()


def say_why_files_failed() -> bool:
    """Answer a failed deferred download with the :class:`FileBuildFailed` message; ``True`` when installed.

    Installed once per process. The media file manager's ``execute_deferred`` notes the message of a
    failure under the file id; the deferred-file handler puts it in its error answer, which the browser
    shows under the button. Without those attributes Streamlit's own answer stays (one warning in the log).
    """
    from streamlit.runtime import backend_operation_handler as operations
    from streamlit.runtime.media_file_manager import MediaFileManager

    handler = getattr(operations, "DeferredFileHandler", None)
    if handler is None or not hasattr(MediaFileManager, "execute_deferred"):
        _fallback("messages of failed downloads", ["DeferredFileHandler"] if handler is None else ["execute_deferred"])
        return False
    if getattr(handler.handle, "_says_why", False):
        return True
    missing = _lacking(handler, _HANDLER_ATTRS)
    if missing:
        _fallback("messages of failed downloads", missing)
        return False
    original_execute, original_handle = MediaFileManager.execute_deferred, handler.handle

    def execute_deferred(self: Any, file_id: str) -> str:
        try:
            return original_execute(self, file_id)
        except Exception as exc:
            failure = exc if isinstance(exc, FileBuildFailed) else exc.__cause__
            if isinstance(failure, FileBuildFailed):
                with _failure_lock:
                    _failure_messages[file_id] = str(failure)
            raise

    async def handle(self: Any, request: Any, session_id: str) -> Any:
        response = await original_handle(self, request, session_id)
        file_id = getattr(getattr(request, "deferred_file", None), "file_id", "")
        with _failure_lock:
            message = _failure_messages.pop(file_id, None)
        if message and getattr(response, "error_msg", ""):
            response.error_msg = message
        return response

    execute_deferred._pins_made_files = getattr(original_execute, "_pins_made_files", False)  # type: ignore[attr-defined]
    for wrapper, original in ((execute_deferred, original_execute), (handle, original_handle)):
        wrapper._says_why = True  # type: ignore[attr-defined]
        wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    MediaFileManager.execute_deferred = execute_deferred  # type: ignore[method-assign]
    handler.handle = handle
    return True


# --------------------------------------------------------------------------------------- folium GeoJson
_GEOJSON_ATTRS = ("_template", "highlight", "includes", "show", "data", "_parent", "_children")


def _geojson_internals_present(layer: folium.GeoJson) -> list[str]:
    """What :meth:`GeoJsonLayer.render` needs from folium that ``layer`` (or folium) lacks."""
    missing = _lacking(layer, _GEOJSON_ATTRS)
    if getattr(layer, "highlight", False) and not hasattr(layer, "highlight_function"):
        missing.append("highlight_function")
    if not hasattr(folium.utilities, "get_obj_in_upper_tree"):
        missing.append("folium.utilities.get_obj_in_upper_tree")
    try:
        from folium.map import ElementAddToElement  # noqa: F401 - only checked
    except ImportError:
        missing.append("folium.map.ElementAddToElement")
    template = getattr(layer, "_template", None)
    if "script" not in getattr(getattr(template, "module", None), "__dict__", {}):
        missing.append("GeoJson template macro 'script'")
    return missing


class GeoJsonLayer(folium.GeoJson):
    """``folium.GeoJson`` whose style switch and bounds are computed once from what the caller knows.

    folium derives both by walking every feature in Python on each render (JSON-dumping each feature's
    style, iterating every coordinate for the bounds), and streamlit-folium renders a map more than once;
    here the styles are grouped by identity and the bounds come from shapely.
    """

    def __init__(self, data: dict, *, styles: dict[str, dict[str, Any]], bounds: list[list[float]],
                 **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._styles = styles
        self._bounds = bounds

    def _get_self_bounds(self) -> list[list[float]]:
        return self._bounds

    def render(self, **kwargs: Any) -> None:
        """Render like ``folium.GeoJson`` but add the rendered script verbatim (see the module docstring)."""
        missing = _geojson_internals_present(self)
        if missing:
            _fallback("rendering GeoJSON layers verbatim", missing)
            super().render(**kwargs)
            return
        from folium.map import ElementAddToElement

        self.parent_map = folium.utilities.get_obj_in_upper_tree(self, folium.Map)
        groups: dict[int, tuple[dict, list[str]]] = {}
        for key, style in self._styles.items():
            groups.setdefault(id(style), (style, []))[1].append(key)
        ordered = sorted(groups.values(), key=lambda group: -len(group[1]))
        self.style_map = {json.dumps(style, sort_keys=True): ids for style, ids in ordered[1:]}
        self.style_map["default"] = json.dumps(ordered[0][0], sort_keys=True) if ordered else "{}"
        if self.highlight:
            first = self.data["features"][0]
            self.highlight_map = {"default": json.dumps(self.highlight_function(first), sort_keys=True)}
        # What folium.map.Layer.render and branca's MacroElement.render do, except that the rendered script
        # (which holds the data) is added verbatim instead of being compiled as a template again.
        if self.includes:
            raise RuntimeError("GeoJson layers with class includes are not supported here.")
        if self.show:
            self.add_child(
                ElementAddToElement(element_name=self.get_name(), element_parent_name=self._parent.get_name()),
                name=self.get_name() + "_add",
            )
        script = self._template.module.__dict__["script"]
        self.get_root().script.add_child(_Verbatim(script(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _Verbatim(Element):
    """Already rendered text, put into the page as it is (never compiled as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = str(text)

    def render(self, **kwargs: Any) -> str:
        return self._text


# ------------------------------------------------------------------------------ streamlit-folium renders
_ELEMENT_ATTRS = ("_children", "_id")
_FOLIUM_NAME = re.compile(r"^[a-z_]+_[0-9a-f]{32}$")


def _walk(m: folium.Map) -> Iterator[Element]:
    stack: list[Element] = [m]
    while stack:
        element = stack.pop()
        yield element
        stack.extend(element._children.values())


def _elements_ok(m: folium.Map) -> bool:
    missing = _lacking(m, _ELEMENT_ATTRS)
    root = m.get_root()
    missing += [f"figure.{part}._children" for part in ("header", "html", "script")
                if not hasattr(getattr(root, part, None), "_children")]
    if missing:
        _fallback("keeping map downloads after streamlit-folium draws the map", missing)
    return not missing


@contextmanager
def keep_element_ids(m: folium.Map) -> Iterator[None]:
    """Around a streamlit-folium draw: give every element of ``m`` back the id it had before.

    streamlit-folium renames every element of the map it draws (``map_div``, ``geo_json_div_0``, …) after
    rendering it; the elements a render added meanwhile (the ``addTo`` call of each layer) still name the
    old variables. A later render of the same map — the HTML or PNG download — then referred to layers that
    no longer existed (``geo_json_… is not defined``) and drew nothing but its title and legend.
    """
    if not _elements_ok(m):
        yield
        return
    names = [(element, element._id) for element in _walk(m)]
    try:
        yield
    finally:
        for element, element_id in names:
            element._id = element_id


def drop_stale_renders(m: folium.Map) -> None:
    """Forget what was rendered into the figure under element names that no longer exist.

    streamlit-folium renders the figure and then renames every element of the map; what the render left
    in the figure's header, body and script would make a later render (the map's HTML/PNG download) hold
    every layer twice, once under the old names.
    """
    if not _elements_ok(m):
        return
    current = {element.get_name() for element in _walk(m)}
    root = m.get_root()
    for part in (root.header, root.html, root.script):
        for name in [n for n in part._children if _FOLIUM_NAME.match(n) and n not in current]:
            del part._children[name]



# ---------------------------------------------------------------------------------- streamlit navigation
_PAGES_MANAGER_ATTRS = ("intended_page_name", "intended_page_script_hash", "set_script_intent")


def open_default_page_by_slug(slug: str) -> bool:
    """Before ``st.navigation``: a request for the default page's ``slug`` becomes a request for the root.

    Returns ``True`` when the request was rewritten. Streamlit gives the default page the URL path ``""``,
    so ``/<slug>`` matched nothing and Streamlit said "Page not found" before running the default page.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    manager = getattr(ctx, "pages_manager", None)
    missing = _lacking(manager, _PAGES_MANAGER_ATTRS)
    if missing:
        _fallback("opening the default page by its slug", [f"pages_manager.{name}" for name in missing])
        return False
    if manager.intended_page_script_hash or manager.intended_page_name != slug:
        return False
    manager.set_script_intent("", "")
    return True


# ---------------------------------------------------------------------------------- streamlit widget labels
_OPTION_VALUE_TYPES = ("string_value", "string_array_value")  # selectbox, radio, multiselect, pills, …


def option_widget_keys() -> list[str]:
    """User keys of this session's widgets whose value travels as text (an option's label, for select widgets).

    Call from a widget callback: the values behind these keys are then still read with the previous run's
    labels, so ``st.session_state[key] = st.session_state[key]`` re-sends each in the new language.
    """
    from streamlit.runtime.state import get_session_state

    try:
        state = get_session_state()._state
        metadata = state._new_widget_state.widget_metadata
        keys = state._key_id_mapper.id_key_mapping
    except AttributeError as exc:
        _fallback("keeping choices across a language switch", [str(exc)])
        return []
    return [keys[wid] for wid, meta in list(metadata.items())
            if wid in keys and getattr(meta, "value_type", None) in _OPTION_VALUE_TYPES]


# ------------------------------------------------------------------------------------ GeoJSON encoded once
class EncodedOnce(dict):
    """A GeoJSON dict whose JSON text is made on first use and then reused by every render of its layer.

    Build it complete and leave it as it is: the text does not follow later changes.
    """

    @functools.cached_property
    def json_text(self) -> str:
        return json.dumps(self, ensure_ascii=False, separators=(",", ":"))


def _dumps(obj: Any, **kwargs: Any) -> str:
    if isinstance(obj, EncodedOnce):
        return obj.json_text
    return json.dumps(obj, **kwargs)


def encode_geojson_once() -> bool:
    """Make Jinja's ``tojson`` in folium's GeoJSON template take an :class:`EncodedOnce`'s text; ``True`` when
    installed.

    Jinja still escapes ``<``, ``>``, ``&`` and ``'`` in that text, as in any other. Installed once per
    process on the environment folium's templates are compiled in.
    """
    environment = getattr(getattr(folium.GeoJson, "_template", None), "environment", None)
    policies = getattr(environment, "policies", None)
    if not isinstance(policies, dict) or "json.dumps_function" not in policies:
        _fallback("encoding GeoJSON once per layer", ["jinja2 environment policies['json.dumps_function']"])
        return False
    if policies["json.dumps_function"] in (None, json.dumps):
        policies["json.dumps_function"] = _dumps
    return policies["json.dumps_function"] is _dumps


# ------------------------------------------------------------------------------------ Chromium for exports
UNSAFE_CHROMIUM_FLAGS = ("--disable-web-security", "--allow-file-access-from-files")


def chromium_with_web_security() -> type:
    """choreographer's Chromium launcher without ``UNSAFE_CHROMIUM_FLAGS``, for ``kaleido.Kaleido(browser_cls=)``.

    The launcher's ``get_cli`` (the command line it starts) is filtered; without that method the launcher
    is returned unchanged (one warning in the log).
    """
    from choreographer.browsers.chromium import Chromium

    missing = _lacking(Chromium, ["get_cli"])
    if missing:
        _fallback("Chromium for exports without the web-security flags", missing)
        return Chromium
    return _secure_subclass(Chromium)


@functools.cache
def _secure_subclass(base: type) -> type:
    class SecureChromium(base):  # type: ignore[misc, valid-type]
        def get_cli(self) -> list[str]:
            return [arg for arg in super().get_cli() if arg not in UNSAFE_CHROMIUM_FLAGS]

    return SecureChromium
