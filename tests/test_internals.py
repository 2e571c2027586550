"""The workarounds that use library internals (dashboard/_internals.py): the versions they were checked
against, that each works there, and that each falls back to the library's own behaviour without them."""

from __future__ import annotations

import logging
import threading
from importlib.metadata import version

import folium
import pytest

from dashboard import _internals

CHECKED = {"streamlit": "1.67.0", "folium": "0.20.0", "streamlit-folium": "0.27.4", "choreographer": "1.4.0"}
RECHECK = {
    "streamlit": "MediaFileManager.execute_deferred and its _lock, _files_by_session_and_coord, _file_metadata "
                 "(pin_files_made_on_click), and that deferred downloads still 404 under concurrent use without it; "
                 "PagesManager.set_script_intent and that /<default slug> still finds no page "
                 "(open_default_page_by_slug, test_unchanged_request_resolves_to_nothing); SessionState._new_widget_state."
                 "widget_metadata[id].value_type and _key_id_mapper.id_key_mapping, and that a select widget still "
                 "keeps its choice as a label (option_widget_keys, tests/browser/test_browser_language.py); "
                 "backend_operation_handler.DeferredFileHandler.handle and its error_msg answer (say_why_files_failed)",
    "folium": "GeoJson's _template macro 'script', ElementAddToElement, utilities.get_obj_in_upper_tree and what "
              "Layer.render does (GeoJsonLayer.render copies it)",
    "streamlit-folium": "that st_folium still renames a map's elements after drawing it and leaves its render in "
                        "the figure (keep_element_ids, drop_stale_renders)",
    "choreographer": "that Chromium.get_cli still builds the whole command line and which flags it adds "
                     "(chromium_with_web_security; tests/test_export.py checks the running browser's)",
}


@pytest.mark.parametrize("package", sorted(CHECKED))
def test_versions_the_workarounds_were_checked_against(package):
    assert version(package) == CHECKED[package], (
        f"{package} is {version(package)}, not {CHECKED[package]}: re-check {RECHECK[package]}, "
        "then update CHECKED here and the versions named in dashboard/_internals.py."
    )


@pytest.fixture
def fresh_warnings(monkeypatch):
    monkeypatch.setattr(_internals, "_warned", set())


# ------------------------------------------------------------------------------------ files made on click
class _Manager:
    """A stand-in for Streamlit's MediaFileManager with the attributes the pin uses (or not)."""

    def __init__(self, *, with_internals: bool):
        if with_internals:
            self._lock = threading.Lock()
            self._files_by_session_and_coord: dict[str, dict[str, str]] = {}
            self._file_metadata = {"abc123": object()}

    def execute_deferred(self, file_id: str) -> str:
        return f"/media/{file_id}.csv"

    def _remove_orphaned_deferred_callables(self) -> None:
        pass


def _install_on(monkeypatch, cls: type) -> bool:
    import streamlit.runtime.media_file_manager as mfm

    monkeypatch.setattr(mfm, "MediaFileManager", cls)
    return _internals.pin_files_made_on_click()


def test_a_made_file_is_pinned(monkeypatch, fresh_warnings):
    class Manager(_Manager):
        pass

    assert _install_on(monkeypatch, Manager)
    manager = Manager(with_internals=True)
    assert manager.execute_deferred("abc123") == "/media/abc123.csv"
    pins = manager._files_by_session_and_coord[_internals.PIN_HOLDER]
    assert list(pins.values()) == ["abc123"]
    assert _install_on(monkeypatch, Manager)  # a second install does not wrap twice
    manager.execute_deferred("abc123")
    assert list(pins.values()) == ["abc123", "abc123"]


def test_without_the_managers_internals_downloads_work_as_before(monkeypatch, fresh_warnings, caplog):
    class Manager(_Manager):
        pass

    assert _install_on(monkeypatch, Manager)
    manager = Manager(with_internals=False)
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert manager.execute_deferred("abc123") == "/media/abc123.csv"
        assert manager.execute_deferred("abc123") == "/media/abc123.csv"
    warnings = [r for r in caplog.records if "pinning files made on click" in r.getMessage()]
    assert len(warnings) == 1 and "_file_metadata" in warnings[0].getMessage()


def test_a_manager_without_the_expected_methods_is_left_alone(monkeypatch, fresh_warnings, caplog):
    class Manager:
        def execute_deferred(self, file_id: str) -> str:
            return file_id

    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert not _install_on(monkeypatch, Manager)
    assert Manager.execute_deferred.__name__ == "execute_deferred"
    assert not getattr(Manager.execute_deferred, "_pins_made_files", False)
    assert "_remove_orphaned_deferred_callables" in caplog.text


def test_the_real_manager_has_what_the_pin_uses():
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    manager = MediaFileManager(MemoryMediaFileStorage("/media"))
    assert not _internals._lacking(MediaFileManager, _internals._MANAGER_CLASS_ATTRS)
    assert not _internals._lacking(manager, _internals._MANAGER_ATTRS)


# ------------------------------------------------------------------------------------------ GeoJSON layers
FEATURES = {"type": "FeatureCollection", "features": [
    {"type": "Feature", "id": "a", "properties": {"key": "a"}, "geometry": {"type": "Point", "coordinates": [116.6, 35.4]}},
]}


def _map_with_layer() -> tuple[folium.Map, _internals.GeoJsonLayer]:
    m = folium.Map(location=[35.4, 116.6], zoom_start=10)
    style = {"color": "#123456"}
    layer = _internals.GeoJsonLayer(FEATURES, styles={"a": style}, bounds=[[35.4, 116.6], [35.4, 116.6]],
                                    style_function=lambda f: style, name="test layer")
    layer.add_to(m)
    return m, layer


def test_the_layer_renders_its_data_and_style(fresh_warnings, caplog):
    m, layer = _map_with_layer()
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        html = m.get_root().render()
    assert "116.6" in html and "#123456" in html and f"{layer.get_name()}.addTo" in html
    assert "rendering GeoJSON layers" not in caplog.text


def test_without_folium_internals_the_layer_renders_as_folium_does(monkeypatch, fresh_warnings, caplog):
    monkeypatch.delattr(folium.utilities, "get_obj_in_upper_tree")
    m, layer = _map_with_layer()
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        html = m.get_root().render()
    assert "116.6" in html and "#123456" in html
    assert caplog.text.count("rendering GeoJSON layers verbatim") == 1


# ----------------------------------------------------------------------------- streamlit-folium renders
def test_element_ids_come_back_after_a_draw():
    m, layer = _map_with_layer()
    before = layer.get_name()
    with _internals.keep_element_ids(m):
        layer._id = "renamed"
    assert layer.get_name() == before


def test_stale_renders_are_dropped_and_current_ones_kept():
    m, layer = _map_with_layer()
    m.get_root().render()
    script = m.get_root().script
    script.add_child(_internals._Verbatim("stale"), name="geo_json_" + "0" * 32)
    _internals.drop_stale_renders(m)
    names = set(script._children)
    assert layer.get_name() in names and "geo_json_" + "0" * 32 not in names


def test_without_element_internals_a_draw_changes_nothing(fresh_warnings, caplog):
    class Bare:
        def get_root(self):
            return self

    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        with _internals.keep_element_ids(Bare()):  # type: ignore[arg-type]
            pass
        _internals.drop_stale_renders(Bare())  # type: ignore[arg-type]
    assert caplog.text.count("keeping map downloads") == 1


# ----------------------------------------------------------------------------- the default page's slug
def _requested(monkeypatch, page_name: str, page_hash: str = ""):
    """Streamlit's own page manager with the pages of a two-page app, asked for ``page_name``."""
    from types import SimpleNamespace

    import streamlit.runtime.scriptrunner as scriptrunner
    from streamlit.runtime.pages_manager import PagesManager

    manager = PagesManager("app.py")
    manager.set_script_intent(page_hash, page_name)
    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: SimpleNamespace(pages_manager=manager))
    pages = {"h-overview": {"page_script_hash": "h-overview", "page_name": "总览", "url_pathname": ""},
             "h-progress": {"page_script_hash": "h-progress", "page_name": "县区进度", "url_pathname": "progress"}}
    return manager, pages


def test_the_default_pages_slug_resolves_to_it_without_not_found(monkeypatch, fresh_warnings):
    manager, pages = _requested(monkeypatch, "overview")
    assert _internals.open_default_page_by_slug("overview") is True
    # with the request left as it was, Streamlit finds no page (its "Page not found" dialog) and falls back
    assert manager.set_pages_and_resolve(pages, fallback_page_hash="h-overview")["page_script_hash"] == "h-overview"
    assert (manager.intended_page_name, manager.intended_page_script_hash) == ("", "")


def test_other_requests_are_left_as_they_are(monkeypatch, fresh_warnings):
    manager, pages = _requested(monkeypatch, "progress")
    assert _internals.open_default_page_by_slug("overview") is False
    assert manager.set_pages_and_resolve(pages, fallback_page_hash="h-overview")["page_script_hash"] == "h-progress"
    manager, _ = _requested(monkeypatch, "overview", page_hash="h-progress")  # a click in the navigation
    assert _internals.open_default_page_by_slug("overview") is False
    assert manager.intended_page_script_hash == "h-progress"


def test_unchanged_request_resolves_to_nothing(monkeypatch):
    """What the workaround is for: Streamlit 1.67 serves the default page only at the root."""
    manager, pages = _requested(monkeypatch, "overview")
    assert manager.set_pages_and_resolve(pages, fallback_page_hash="h-overview") is None


def test_without_the_page_managers_internals_the_request_is_left_alone(monkeypatch, fresh_warnings, caplog):
    from types import SimpleNamespace

    import streamlit.runtime.scriptrunner as scriptrunner

    monkeypatch.setattr(scriptrunner, "get_script_run_ctx", lambda: SimpleNamespace(pages_manager=object()))
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert _internals.open_default_page_by_slug("overview") is False
        assert _internals.open_default_page_by_slug("overview") is False
    assert caplog.text.count("opening the default page by its slug") == 1


# ------------------------------------------------------------------------------------ widget labels
def test_without_the_session_states_internals_no_keys_are_named(monkeypatch, fresh_warnings, caplog):
    from types import SimpleNamespace

    import streamlit.runtime.state as runtime_state

    monkeypatch.setattr(runtime_state, "get_session_state", lambda: SimpleNamespace(_state=object()))
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert _internals.option_widget_keys() == []
        assert _internals.option_widget_keys() == []
    assert caplog.text.count("keeping choices across a language switch") == 1


def test_option_widget_keys_names_the_select_widgets_only(monkeypatch):
    from types import SimpleNamespace

    import streamlit.runtime.state as runtime_state

    metadata = {"id-a": SimpleNamespace(value_type="string_value"), "id-b": SimpleNamespace(value_type="trigger_value"),
                "id-c": SimpleNamespace(value_type="string_array_value"), "id-d": SimpleNamespace(value_type="string_value")}
    state = SimpleNamespace(_new_widget_state=SimpleNamespace(widget_metadata=metadata),
                            _key_id_mapper=SimpleNamespace(id_key_mapping={"id-a": "county", "id-b": "go", "id-c": "ftypes"}))
    monkeypatch.setattr(runtime_state, "get_session_state", lambda: SimpleNamespace(_state=state))
    assert _internals.option_widget_keys() == ["county", "ftypes"]  # unkeyed id-d and the button left out


# ------------------------------------------------------------------------------------ Chromium for exports
class _Launcher:
    def get_cli(self) -> list[str]:
        return ["chromium", "--headless", "--disable-web-security", "--allow-file-access-from-files", "--no-first-run"]


def test_the_launcher_drops_only_the_web_security_flags(monkeypatch, fresh_warnings):
    import choreographer.browsers.chromium as chromium

    monkeypatch.setattr(chromium, "Chromium", _Launcher)
    launcher = _internals.chromium_with_web_security()
    assert issubclass(launcher, _Launcher)
    assert launcher().get_cli() == ["chromium", "--headless", "--no-first-run"]


def test_the_real_launcher_has_what_the_filter_uses(fresh_warnings, caplog):
    from choreographer.browsers.chromium import Chromium

    assert issubclass(_internals.chromium_with_web_security(), Chromium)
    assert not caplog.records


def test_without_get_cli_the_launcher_is_choreographers_own(monkeypatch, fresh_warnings, caplog):
    import choreographer.browsers.chromium as chromium

    class Other:
        pass

    monkeypatch.setattr(chromium, "Chromium", Other)
    with caplog.at_level(logging.WARNING):
        assert _internals.chromium_with_web_security() is Other
    assert any("web-security" in r.getMessage() and "get_cli" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------------- failed files made on click
def _answer(manager, file_id: str):
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, DeferredFileRequestPayload
    from streamlit.runtime.backend_operation_handler import DeferredFileHandler

    request = BackendOperationRequest(request_id="r1", deferred_file=DeferredFileRequestPayload(file_id=file_id))
    # A thread of its own: in a whole run the browser tests' Playwright still holds this thread's event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(DeferredFileHandler(lambda: manager).handle(request, "session"))).result()


def test_a_failed_file_is_explained_in_the_users_language(monkeypatch, fresh_warnings):
    """Streamlit's own answer is a fixed English sentence; with the workaround the user reads why, in Chinese."""
    from streamlit.runtime import backend_operation_handler as operations
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from dashboard import downloads

    for cls, name in ((MediaFileManager, "execute_deferred"), (operations.DeferredFileHandler, "handle")):
        method = getattr(cls, name)
        while getattr(method, "_says_why", False):  # installed already (app.py ran in this process): take it off
            method = method.__wrapped__
        monkeypatch.setattr(cls, name, method)
    manager = MediaFileManager(MemoryMediaFileStorage("/media"))

    def broken() -> bytes:
        raise ValueError("Cannot convert <NA> to Excel")

    file_id = manager.add_deferred(downloads._deferred(broken, "排名.xlsx", "zh"), "text/csv", "c1", "排名.xlsx")
    assert _answer(manager, file_id).error_msg == "Failed to generate file for download"  # Streamlit's own

    assert _internals.say_why_files_failed()
    assert _internals.say_why_files_failed()  # a second install does not wrap twice
    answer = _answer(manager, file_id)
    assert answer.error_msg.startswith("文件“排名.xlsx”生成失败，未下载。")
    assert "联系管理员" in answer.error_msg
    good = manager.add_deferred(downloads._deferred(lambda: b"a,b", "ok.csv", "en"), "text/csv", "c2", "ok.csv")
    assert not _answer(manager, good).error_msg  # a file that builds is answered as before
    english = manager.add_deferred(downloads._deferred(broken, "rank.xlsx", "en"), "text/csv", "c3", "rank.xlsx")
    assert _answer(manager, english).error_msg.startswith("The file “rank.xlsx” could not be made")
    assert not _internals._failure_messages  # nothing is kept after the answer


def test_failed_file_messages_fall_back_without_the_handler(monkeypatch, fresh_warnings, caplog):
    from streamlit.runtime import backend_operation_handler as operations

    monkeypatch.delattr(operations, "DeferredFileHandler")
    with caplog.at_level(logging.WARNING, logger="dashboard._internals"):
        assert not _internals.say_why_files_failed()
    assert "messages of failed downloads" in caplog.text
